// Package safego runs the library's goroutine work so that a panic never
// takes the host down: it comes back as an error saying where it happened.
package safego

import (
	"fmt"
	"path"
	"runtime"
	"strings"
)

// PanicError is a recovered panic.
type PanicError struct {
	Value any    // what was passed to panic
	Where string // the function and file:line that panicked, when known
}

// Error describes the panic and where it happened.
func (e *PanicError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("panic: %v", e.Value)
	}
	return fmt.Sprintf("panic: %v (at %s)", e.Value, e.Where)
}

// Call runs f and returns nil, or a *PanicError when f panics.
func Call(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = Recovered(v)
		}
	}()
	f()
	return nil
}

// Recovered turns the value a deferred function got from recover into a
// *PanicError; called in that function, it finds the frame that panicked.
func Recovered(v any) *PanicError {
	return &PanicError{Value: v, Where: panicSite()}
}

// panicSite returns the first frame below the runtime's panic machinery.
func panicSite() string {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case strings.HasPrefix(f.Function, "runtime."):
			inPanic = true
		case inPanic:
			return fmt.Sprintf("%s (%s:%d)", f.Function, shortFile(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}

// shortFile keeps a path's last directory and file name.
func shortFile(p string) string {
	dir, file := path.Split(p)
	return path.Join(path.Base(dir), file)
}
