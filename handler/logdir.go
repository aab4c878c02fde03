package handler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// logDir is the one place the handler touches the file system by name: on
// Linux relative to the directory held open, elsewhere (or with the tag
// debugmode_portable) by path, refusing symlinks. One goroutine at a time,
// but for dup, which any goroutine may call (fdMu).
type logDir struct {
	path   string // absolute, free of symbolic links at start
	mode   os.FileMode
	fdMu   sync.Mutex // held where fd changes, and by dup
	fd     int        // Linux: the directory held open, -1 when none
	closed bool       // elsewhere: close was called (dup refuses then, as on Linux)
	id     fileID     // of the directory held (elsewhere: named when last verified)

	// refused is set while the path is not a directory the handler may
	// use (a symbolic link, say): the reason, reported once.
	refused error
}

// fileInfo is what the handler needs to know of a log file.
type fileInfo struct {
	size    int64
	mtime   time.Time
	regular bool   // a regular file: not a directory, link, FIFO or device
	id      fileID // to notice it deleted or replaced underneath
}

// errNotRegular says why a log file's path was not opened.
var errNotRegular = errors.New("not a regular file (remove it)")

// openLogDir creates and holds the log directory; a configured link is
// followed then, never after.
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

// verify, every flush, makes sure the path still names the directory
// held: a deleted one is remade, another at the path is held instead; a
// symlink or non-directory path is refused, the error returned once.
func (d *logDir) verify() error {
	if st, err := lstat(d.path); err == nil && st.id.same(d.id) {
		d.refused = nil // whatever the path goes through, it leads here
		return nil
	}
	h, err := d.walk(false)
	if errors.Is(err, fs.ErrNotExist) {
		h, err = d.walk(true)
	}
	if err != nil {
		first := d.refused == nil
		if d.refused = err; first {
			return d.refusal(err)
		}
		return nil
	}
	d.refused = nil
	d.hold(h)
	return nil
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
