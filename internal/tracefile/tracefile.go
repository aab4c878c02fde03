// Package tracefile names and creates a session's snapshots beside its
// category files: execution traces, <session>_execution_trace_001.trace,
// and goroutine profiles, <session>_goroutines_001.txt.
package tracefile

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Kind is a kind of snapshot: its files' infix and extension.
type Kind struct{ infix, ext string }

var (
	// ExecutionTrace is runtime/trace's flight recorder, for go tool trace.
	ExecutionTrace = Kind{"_execution_trace_", ".trace"}
	// Goroutines is runtime/pprof's goroutine profile, as text.
	Goroutines = Kind{"_goroutines_", ".txt"}
)

// Name is the name of a session's n-th snapshot of kind k (n from 1).
func (k Kind) Name(session string, n int) string {
	return fmt.Sprintf("%s%s%03d%s", session, k.infix, n, k.ext)
}

// parse reads a name as Name writes it.
func (k Kind) parse(name string) (session string, n int, ok bool) {
	base, ok := strings.CutSuffix(name, k.ext)
	i := strings.LastIndex(base, k.infix)
	if !ok || i < 0 {
		return "", 0, false
	}
	num := base[i+len(k.infix):]
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || len(num) > 9 || fmt.Sprintf("%03d", n) != num {
		return "", 0, false
	}
	return base[:i], n, true
}

// Last returns the highest n of the session's snapshots of kind k in dir
// (0: none), so a resumed session numbers on after them.
func (k Kind) Last(dir, session string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	last := 0
	for _, e := range entries {
		if s, n, ok := k.parse(e.Name()); ok && s == session && n > last {
			last = n
		}
	}
	return last
}

// Name is the name of a session's n-th execution trace snapshot.
func Name(session string, n int) string { return ExecutionTrace.Name(session, n) }

// Parse reads a snapshot's name, of either kind, as Name writes it.
func Parse(name string) (session string, n int, ok bool) {
	if session, n, ok = ExecutionTrace.parse(name); ok {
		return session, n, ok
	}
	return Goroutines.parse(name)
}

// File is a snapshot being written: Close it, or Discard it if writing
// failed (go tool trace cannot read a snapshot cut short).
type File interface {
	io.Writer
	Sync() error
	Close() error
	Discard() error
}

// Create creates the n-th snapshot of kind k of the session of files (a
// *handler.Handler) as its category files are: in the directory it holds
// open, never through a symlink or over a file; package handler sets it.
var Create func(files any, k Kind, n int, perm os.FileMode) (File, error)
