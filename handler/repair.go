package handler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// repairDeadSessions cuts the partial last line a process killed in the
// middle of a write left off every file of the directory's dead sessions,
// whatever their IDs, so that every line of every file decodes, and
// removes the temporary files of rotations such a process cut short. A file
// whose name could be a live session's is never touched. It returns how
// many files it repaired.
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
		target, temp := rotationTempTarget(name)
		if !temp {
			target = name
		}
		readings := parseFileName(target)
		if len(readings) == 0 || !temp && readings[0].trace || slices.ContainsFunc(readings, func(r fileName) bool { return guard.check(r.session) == live }) {
			continue // not a JSON Lines file (or a rotation's) of a dead session
		}
		var ok bool
		if temp {
			err = removeIfEmpty(d, name)
		} else if ok, err = repairFile(d, name, maxLine); ok {
			repaired++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return repaired, errors.Join(errs...)
}

// removeIfEmpty removes a rotation's temporary file; it has no lines
// (they are written once it has its live name), or it is not one.
func removeIfEmpty(d *logDir, name string) error {
	if st, err := d.stat(name); err == nil && st.size == 0 {
		if err := d.remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// repairFile truncates a file after its last newline when it does not end
// with one.
func repairFile(d *logDir, name string, maxLine int) (repaired bool, err error) {
	f, st, err := d.openFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer f.Close()
	defer func() {
		if err != nil {
			err = fmt.Errorf("handler: repair %s: %w", f.Name(), err)
		}
	}()
	last := make([]byte, 1)
	if st.size == 0 {
		return false, nil
	} else if _, err := f.ReadAt(last, st.size-1); err != nil || last[0] == '\n' {
		return false, err
	}
	// Find the last newline, reading backwards at most a line's length.
	start := max(st.size-int64(maxLine)-1, 0)
	tail := make([]byte, st.size-start)
	if _, err := f.ReadAt(tail, start); err != nil && err != io.EOF {
		return false, err
	}
	i := bytes.LastIndexByte(tail, '\n')
	if i < 0 && start > 0 {
		return false, nil // a line longer than any we write: leave it to the reader
	}
	if err := f.Truncate(start + int64(i) + 1); err != nil {
		return false, err
	}
	return true, nil
}
