package handler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// logDir, the log directory, is the one place the handler touches the file
// system by name. On Linux (logdir_linux.go) it holds the directory open
// and works relative to it; elsewhere (logdir_other.go) it works by path,
// refusing symbolic links it finds (the tag debugmode_portable builds that
// on Linux too, to test it: make cross). It is used by one goroutine at a
// time: New, then the writer.
type logDir struct {
	path string // absolute, free of symbolic links at start
	mode os.FileMode
	fd   int    // Linux: the directory held open, -1 when none
	id   fileID // of the directory held (elsewhere: named when last verified)

	// refused is set while the path is not a directory the handler may
	// use (a symbolic link, say): the reason, reported once.
	refused error
}

// fileInfo is what the handler needs to know of a file of the log
// directory.
type fileInfo struct {
	size    int64
	mtime   time.Time
	regular bool   // a regular file: not a directory, link, FIFO or device
	id      fileID // to notice it deleted or replaced underneath
}

// errNotRegular says why a log file's path was not opened.
var errNotRegular = errors.New("not a regular file (remove it)")

// openLogDir creates the log directory if needed, resolves its path once
// (a link configured as the log directory is followed then, never after)
// and holds it.
func openLogDir(path string, mode os.FileMode) (*logDir, error) {
	if err := os.MkdirAll(path, mode); err != nil {
		return nil, fmt.Errorf("handler: create log directory: %w (set the directory to one this process can write)", err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return nil, fmt.Errorf("handler: log directory %s: %w", path, err)
	}
	d := &logDir{path: real, mode: mode, fd: -1}
	h, err := d.walk(false)
	if err != nil {
		return nil, err
	}
	d.hold(h)
	return d, nil
}

// verify, every flush, makes sure the path still names the directory held
// and reports whether the directory held changed: a deleted directory is
// made again, and another directory at the path (the old one moved aside)
// is held instead; a path that is, or goes through, a symbolic link, or is
// not a directory, is not followed (see refusal), and the error returned
// once, when this is found.
func (d *logDir) verify() (changed bool, err error) {
	if st, err := lstat(d.path); err == nil && st.id.same(d.id) {
		d.refused = nil // whatever the path goes through, it leads here
		return false, nil
	}
	h, err := d.walk(false)
	if errors.Is(err, fs.ErrNotExist) {
		h, err = d.walk(true)
	}
	if err != nil {
		first := d.refused == nil
		if d.refused = err; first {
			return false, d.refusal(err)
		}
		return false, nil
	}
	d.refused = nil
	return d.hold(h), nil
}

// errAt is walk's error for a component, at, of the path.
func (d *logDir) errAt(at, what string) error {
	return fmt.Errorf("handler: log directory %s: %s %s", d.path, at, what)
}

const ( // what walk finds at a component of the path
	isSymlink = "is now a symbolic link, which is not followed"
	notDir    = "is not a directory"
)

// holds reports whether name in the directory is the file id.
func (d *logDir) holds(name string, id fileID) bool {
	st, err := d.stat(name)
	return err == nil && id.same(st.id)
}

// join is the path of a file of the directory, for messages and Path.
func (d *logDir) join(name string) string {
	return filepath.Join(d.path, name)
}
