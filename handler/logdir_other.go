//go:build !linux || debugmode_portable

package handler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Without openat(2), files are used by path and a symlink is refused where
// found (Lstat, O_NOFOLLOW, verify every flush); a link swapped in between
// check and use still wins, narrower than on Linux. While refused, records fail.

// fileID identifies a file for os.SameFile (device and inode on Unix,
// volume and file index on Windows).
type fileID struct{ fi os.FileInfo }

func (a fileID) same(b fileID) bool { return a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi) }

// errSymlink says why a log file's path was not opened.
var errSymlink = errors.New("a symbolic link is at the log file's path, which is not followed (remove it)")

// hold notes the directory the path names.
func (d *logDir) hold(id fileID) { d.id = id }

// walk checks d.path component by component, following no symlink, and
// returns the directory's identity; with create it makes missing ones.
func (d *logDir) walk(create bool) (fileID, error) {
	vol := filepath.VolumeName(d.path)
	at := vol + string(filepath.Separator)
	fi, err := os.Lstat(at)
	for _, part := range strings.Split(d.path[len(vol):], string(filepath.Separator)) {
		if part == "" || err != nil {
			continue
		}
		at = filepath.Join(at, part)
		fi, err = os.Lstat(at)
		if create && errors.Is(err, fs.ErrNotExist) {
			if err = os.Mkdir(at, d.mode); err == nil || errors.Is(err, fs.ErrExist) {
				fi, err = os.Lstat(at)
			}
			if err != nil {
				return fileID{}, fmt.Errorf("handler: recreate log directory %s: %w", d.path, err)
			}
		}
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return fileID{}, d.errAt(at, isSymlink)
		}
		if err == nil && !fi.IsDir() {
			return fileID{}, d.errAt(at, notDir)
		}
	}
	if err != nil {
		return fileID{}, fmt.Errorf("handler: log directory %s: %w", d.path, err)
	}
	return fileID{fi}, nil
}

// refusal is verify's error for a path it does not follow.
func (d *logDir) refusal(err error) error {
	return fmt.Errorf("%w; records fail until %s is a directory again", err, d.path)
}

// close marks d closed; nothing is held open.
func (d *logDir) close() error {
	d.fdMu.Lock()
	d.closed = true
	d.fdMu.Unlock()
	return nil
}

// dup returns a copy of d, unless d is closed (as on Linux).
func (d *logDir) dup() (*logDir, error) {
	d.fdMu.Lock()
	defer d.fdMu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("handler: the session's files are closed: log directory %s is not held open", d.path)
	}
	return &logDir{path: d.path, mode: d.mode, fd: d.fd, id: d.id, refused: d.refused}, nil
}

// openFile opens a regular file of the directory, never through a symlink
// nor a FIFO or device planted at its name.
func (d *logDir) openFile(name string, flags int, perm os.FileMode) (*os.File, fileInfo, error) {
	if d.refused != nil {
		return nil, fileInfo{}, d.refused
	}
	path := d.join(name)
	if err := checkPath(path); err != nil {
		return nil, fileInfo{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := openNoFollow(path, flags, perm)
	if err != nil {
		if cerr := checkPath(path); cerr != nil {
			err = cerr // planted since the check
		}
		return nil, fileInfo{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errNotRegular
	}
	if err != nil {
		f.Close()
		return nil, fileInfo{}, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return f, infoOf(fi), nil
}

// checkPath refuses a symbolic link or other file than a regular one at
// path; a path where nothing is passes.
func checkPath(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil
	case fi.Mode()&fs.ModeSymlink != 0:
		return errSymlink
	case !fi.Mode().IsRegular():
		return errNotRegular
	}
	return nil
}

// stat looks at a file of the directory, not following a symbolic link.
func (d *logDir) stat(name string) (fileInfo, error) {
	if d.refused != nil {
		return fileInfo{}, d.refused
	}
	return lstat(d.join(name))
}

// lstat looks at path, not following a symbolic link.
func lstat(path string) (fileInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileInfo{}, err
	}
	return infoOf(fi), nil
}

func infoOf(fi os.FileInfo) fileInfo {
	return fileInfo{size: fi.Size(), mtime: fi.ModTime(), regular: fi.Mode().IsRegular(), id: fileID{fi}}
}

func (d *logDir) names() ([]string, error) {
	if d.refused != nil {
		return nil, d.refused
	}
	f, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// link gives old a second name, new; it never replaces a file.
func (d *logDir) link(old, new string) error {
	return d.unlessRefused(func() error { return os.Link(d.join(old), d.join(new)) })
}

func (d *logDir) rename(old, new string) error {
	return d.unlessRefused(func() error { return os.Rename(d.join(old), d.join(new)) })
}

func (d *logDir) remove(name string) error {
	return d.unlessRefused(func() error { return os.Remove(d.join(name)) })
}

func (d *logDir) unlessRefused(f func() error) error {
	if d.refused != nil {
		return d.refused
	}
	return f()
}
