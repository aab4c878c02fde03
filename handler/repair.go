package handler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// repairDeadSessions cuts the partial last line a process killed in the
// middle of a write left off every file of the directory's dead sessions,
// whatever their IDs, so that every line of every file decodes; and it
// removes the temporary files of rotations such a process cut short. A
// file whose name could be a live session's is never touched. It returns
// how many files it repaired.
func repairDeadSessions(d *logDir, maxLine int) (int, error) {
	names, err := d.names()
	if err != nil {
		return 0, err
	}
	guard := newSessionGuard(d)
	defer guard.release()
	repaired := 0
	var errs []error
	for _, name := range names {
		if live, ok := rotationTempTarget(name); ok {
			if readings := parseFileName(live); len(readings) > 0 && !guard.anyLive(readings) {
				if err := removeIfEmpty(d, name); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		readings := parseFileName(name)
		if len(readings) == 0 || readings[0].trace || guard.anyLive(readings) {
			continue // not a JSON Lines file of a dead session
		}
		ok, err := repairFile(d, name, maxLine)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			repaired++
		}
	}
	return repaired, errors.Join(errs...)
}

// removeIfEmpty removes a rotation's temporary file; it has no lines
// (they are written once it has its live name), or it is not one.
func removeIfEmpty(d *logDir, name string) error {
	st, err := d.stat(name)
	if err != nil || st.size != 0 {
		return nil
	}
	if err := d.remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// repairFile truncates a file after its last newline when it does not end
// with one.
func repairFile(d *logDir, name string, maxLine int) (bool, error) {
	f, st, err := d.openFile(name, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	size := st.size
	if size == 0 {
		return false, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return false, fmt.Errorf("handler: repair %s: %w", f.Name(), err)
	}
	if last[0] == '\n' {
		return false, nil
	}
	// Find the last newline, reading backwards at most a line's length.
	start := max(size-int64(maxLine)-1, 0)
	tail := make([]byte, size-start)
	if _, err := f.ReadAt(tail, start); err != nil && err != io.EOF {
		return false, fmt.Errorf("handler: repair %s: %w", f.Name(), err)
	}
	cut := start
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		cut = start + int64(i) + 1
	} else if start > 0 {
		return false, nil // a line longer than any we write: leave it to the reader
	}
	if err := f.Truncate(cut); err != nil {
		return false, fmt.Errorf("handler: repair %s: %w", f.Name(), err)
	}
	return true, nil
}
