// Package tracefile names and creates a session's execution trace
// snapshots, <session>_execution_trace_001.trace, 002, ..., beside its
// category files: package handler counts and deletes them with their
// session; slogdebug's execution trace recorder writes them.
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

// Name is the name of a session's n-th snapshot (n from 1):
// <session>_execution_trace_001.trace.
func Name(session string, n int) string {
	return fmt.Sprintf("%s%s%03d%s", session, infix, n, ext)
}

// Parse reads a snapshot's name as Name writes it: its session ID (not
// checked) and its number.
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

// Last returns the highest n of the session's snapshots already in dir (0
// for none, or when dir cannot be read), so that a resumed session goes on
// numbering after them.
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

// File is a snapshot being written: write it, then Close it (durably), or
// Discard it (close and remove it) if writing failed: go tool trace cannot
// read a snapshot cut short.
type File interface {
	io.Writer
	Sync() error
	Close() error
	Discard() error
}

// Create creates the n-th snapshot of a session in dir, named Name(session,
// n), with permissions perm (0: 0640), as the category files are: never
// through a symbolic link, never over a file that exists. Package handler,
// which holds that way of opening files, sets it.
var Create func(dir, session string, n int, perm os.FileMode) (File, error)
