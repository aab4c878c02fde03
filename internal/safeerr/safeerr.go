// Package safeerr reads error messages without trusting the error.
package safeerr

import "fmt"

// String returns err.Error(), or a description of its panic (a typed nil
// pointer, say): logging an error never takes the program down.
func String(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC in Error(): %v", r)
		}
	}()
	return err.Error()
}
