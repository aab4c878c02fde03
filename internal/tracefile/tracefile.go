// Package tracefile names and creates a session's execution trace snapshots,
// <session>_execution_trace_001.trace, beside its category files.
package tracefile

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const (
	ext   = ".trace"
	infix = "_execution_trace_"
)

// Name is the name of a session's n-th snapshot (n from 1).
func Name(session string, n int) string {
	return fmt.Sprintf("%s%s%03d%s", session, infix, n, ext)
}

// Parse reads a snapshot's name as Name writes it.
func Parse(name string) (session string, n int, ok bool) {
	base, ok := strings.CutSuffix(name, ext)
	i := strings.LastIndex(base, infix)
	if !ok || i < 0 {
		return "", 0, false
	}
	num := base[i+len(infix):]
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || len(num) > 9 || fmt.Sprintf("%03d", n) != num {
		return "", 0, false
	}
	return base[:i], n, true
}

// Last returns the highest n of the session's snapshots in dir (0: none), so
// a resumed session numbers on after them.
func Last(dir, session string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	last := 0
	for _, e := range entries {
		if s, n, ok := Parse(e.Name()); ok && s == session && n > last {
			last = n
		}
	}
	return last
}

// File is a snapshot being written: Close it, or Discard it if writing
// failed (go tool trace cannot read a snapshot cut short).
type File interface {
	io.Writer
	Sync() error
	Close() error
	Discard() error
}

// Create creates the n-th snapshot of the session of files (a
// *handler.Handler) as its category files are: in the directory it holds
// open, never through a symlink or over a file; package handler sets it.
var Create func(files any, n int, perm os.FileMode) (File, error)
