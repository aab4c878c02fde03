// Package safeerr reads error messages without trusting the error.
package safeerr

import "fmt"

// String returns err.Error(), or a description of the panic when the
// method panics (a typed nil pointer, say), so that logging an error can
// never take the program down.
func String(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC in Error(): %v", r)
		}
	}()
	return err.Error()
}
