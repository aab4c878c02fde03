package config

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// OptionError is a field of handler.Options or slogdebug.Config out of range.
type OptionError struct {
	Field string // the field: "QueueBytes"
	Value any    // its value, defaults applied
	Want  string // what is accepted; other fields are named as in its struct
}

// Error says what is wrong: `QueueBytes 10: want 256 to 1073741824 bytes`.
func (e *OptionError) Error() string {
	if s, ok := e.Value.(string); ok {
		return fmt.Sprintf("%s %q: want %s", e.Field, s, e.Want)
	}
	return fmt.Sprintf("%s %v: want %s", e.Field, e.Value, e.Want)
}

// CheckDir reports whether this process could create files in dir, or in
// its nearest existing parent when it is missing: by the permission bits,
// then by making and removing a directory there.
func CheckDir(dir string) error {
	dir = cmp.Or(dir, DefaultDir)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("log directory %q: %w", dir, err)
	}
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if (errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && p != filepath.Dir(p) {
			continue // the handler creates it, or a parent is the problem
		}
		if err != nil {
			return fmt.Errorf("log directory %q: %w", dir, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("log directory %q: %s is not a directory", dir, p)
		}
		if err := writable(p); err != nil {
			what := "is not writable"
			if p != abs {
				what = "does not exist, and its parent " + p + " is not writable"
			}
			return fmt.Errorf("log directory %q %s by this process (uid %d): %w", dir, what, os.Getuid(), err)
		}
		// The permission bits say yes (always, for root): a directory made
		// and removed at once asks the file system itself (read-only, procfs).
		probe, err := os.MkdirTemp(p, ".debugmode-check-")
		if err != nil {
			return fmt.Errorf("log directory %q: nothing can be created in %s: %w", dir, p, err)
		}
		_ = os.Remove(probe)
		return nil
	}
}
