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

// logDir is the log directory, named by its path: without Linux's openat(2)
// family in package syscall, every file is opened, linked, renamed, removed
// and looked at by its path under the directory's.
//
// A symbolic link is refused where it is found: at a file's path (os.Lstat
// before opening, and O_NOFOLLOW on the open where the system has it), or
// at the directory's path or a directory above it (verify, every flush).
// Between a check and the use of a path a link can still be swapped in:
// this is narrower than Linux's protection, not the same. While the path
// is refused nothing is written: the files open are closed (there is no
// telling where they now are, or whether they were deleted), nothing is
// opened, linked, renamed or removed, and records fail and are counted. It
// is used by one goroutine at a time: New, then the writer.
type logDir struct {
	path string // absolute, free of symbolic links at start
	mode os.FileMode
	id   fileID // of the directory the path named when last verified

	// refused is set while the path is not a directory the handler may
	// use (a symbolic link, say): the reason, reported once.
	refused error
}

// fileID identifies a file: what os.SameFile compares (device and inode
// on Unix, volume and file index on Windows).
type fileID struct{ fi os.FileInfo }

// same reports whether a and b are the same file.
func (a fileID) same(b fileID) bool {
	return a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi)
}

// errSymlink says why a log file's path was not opened.
var errSymlink = errors.New("a symbolic link is at the log file's path, which is not followed (remove it)")

// openLogDir creates the log directory if needed, as os.MkdirAll would,
// and notes which directory its path names.
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
	d := &logDir{path: real, mode: mode}
	if d.id, err = d.walk(false); err != nil {
		return nil, err
	}
	return d, nil
}

// walk looks at d.path component by component, following no symbolic
// link, and returns the identity of the directory it names; with create
// it makes the missing components.
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
			return fileID{}, fmt.Errorf("handler: log directory %s: %s is now a symbolic link, which is not followed", d.path, at)
		}
		if err == nil && !fi.IsDir() {
			return fileID{}, fmt.Errorf("handler: log directory %s: %s is not a directory", d.path, at)
		}
	}
	if err != nil {
		return fileID{}, fmt.Errorf("handler: log directory %s: %w", d.path, err)
	}
	return fileID{fi}, nil
}

// verify makes sure the path still names a directory, and reports whether
// it is another than before:
//   - the directory was deleted: it is made again;
//   - the path names another directory (the old one moved aside and a new
//     one made): files are opened in that one from now on;
//   - the path is, or goes through, a symbolic link, or is not a
//     directory: it is not followed. Records fail and are counted until
//     the path is a directory again. The error is returned once, when this
//     is found.
func (d *logDir) verify() (changed bool, err error) {
	if fi, err := os.Lstat(d.path); err == nil && fi.IsDir() && d.id.same(fileID{fi}) {
		d.refused = nil
		return false, nil
	}
	id, err := d.walk(false)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		id, err = d.walk(true)
	}
	if err != nil {
		first := d.refused == nil
		d.refused = err
		if !first {
			return false, nil
		}
		return false, fmt.Errorf("%w; records fail until %s is a directory again", err, d.path)
	}
	d.refused = nil
	if d.id.same(id) {
		return false, nil
	}
	d.id = id
	return true, nil
}

// close lets go of the directory: there is nothing held open.
func (d *logDir) close() error { return nil }

// openFile opens a regular file of the directory, never through a
// symbolic link (the error says so) and never a FIFO or device planted at
// its name. It returns the file and what it says of itself.
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
	fi, err := os.Lstat(d.join(name))
	if err != nil {
		return fileInfo{}, err
	}
	return infoOf(fi), nil
}

// infoOf is what fi says of a file.
func infoOf(fi os.FileInfo) fileInfo {
	return fileInfo{size: fi.Size(), mtime: fi.ModTime(), regular: fi.Mode().IsRegular(), id: fileID{fi}}
}

// holds reports whether name in the directory is the file id; while the
// path is refused, it is not.
func (d *logDir) holds(name string, id fileID) bool {
	st, err := d.stat(name)
	return err == nil && id.same(st.id)
}

// names lists the directory.
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

// link gives the file old a second name, new; it fails when new exists:
// it never replaces a file.
func (d *logDir) link(old, new string) error {
	if d.refused != nil {
		return d.refused
	}
	return os.Link(d.join(old), d.join(new))
}

// rename renames old to new, replacing new.
func (d *logDir) rename(old, new string) error {
	if d.refused != nil {
		return d.refused
	}
	return os.Rename(d.join(old), d.join(new))
}

// remove removes a file of the directory.
func (d *logDir) remove(name string) error {
	if d.refused != nil {
		return d.refused
	}
	return os.Remove(d.join(name))
}
