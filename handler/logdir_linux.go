//go:build !debugmode_portable

package handler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// oPath is Linux's O_PATH (the same on every architecture Go supports),
// which package syscall does not name: a descriptor that locates a file
// without opening it, to look at it or to walk a path through directories
// that can be searched but not read.
const oPath = 0x200000

// logDir is the log directory, held open. Every file is opened, linked,
// renamed, removed and looked at relative to it, and never through a
// symbolic link: the directory's path swapped for a link while the session
// runs leads nothing elsewhere.
//
// Its path is resolved once, at start (a link configured as the log
// directory is followed then). Afterwards verify checks, every flush, that
// the path still names the directory held, and walks it again, following
// no link, when it does not. It is used by one goroutine at a time: New,
// then the writer.
type logDir struct {
	path string // absolute, free of symbolic links
	mode os.FileMode
	fd   int    // -1 once closed
	id   fileID // of the directory held

	// refused is set while the path is not a directory the handler may
	// use (a symbolic link, say): the reason, reported once.
	refused error
}

// openLogDir creates the log directory if needed, as os.MkdirAll would,
// and opens it.
func openLogDir(path string, mode os.FileMode) (*logDir, error) {
	if err := os.MkdirAll(path, mode); err != nil {
		return nil, fmt.Errorf("handler: create log directory: %w (set the directory to one this process can write)", err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("handler: log directory %s: %w", path, err)
	}
	d := &logDir{path: real, mode: mode, fd: -1}
	fd, err := d.walk(false)
	if err != nil {
		return nil, err
	}
	d.hold(fd)
	return d, nil
}

// hold makes fd the directory held.
func (d *logDir) hold(fd int) {
	d.fd = fd
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil {
		d.id = idOf(&st)
	}
}

// walk opens the directory at d.path, component by component, following
// no symbolic link; with create it makes the missing components.
func (d *logDir) walk(create bool) (int, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Open("/", oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("handler: log directory %s: %w", d.path, err)
	}
	parts := strings.Split(strings.Trim(d.path, "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		flags := oPath | syscall.O_DIRECTORY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
		if i == len(parts)-1 {
			flags = syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
		}
		if create {
			if err := retryEINTR(func() error { return syscall.Mkdirat(fd, part, uint32(d.mode)) }); err != nil && err != syscall.EEXIST {
				syscall.Close(fd)
				return -1, fmt.Errorf("handler: recreate log directory %s: %w", d.path, err)
			}
		}
		next, err := openRetry(fd, part, flags, 0)
		if err != nil {
			at := "/" + strings.Join(parts[:i+1], "/")
			var st syscall.Stat_t
			lerr := retryEINTR(func() error { return fstatat(fd, part, &st) })
			syscall.Close(fd)
			if lerr == nil && st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
				return -1, fmt.Errorf("handler: log directory %s: %s is now a symbolic link, which is not followed", d.path, at)
			}
			if err == syscall.ENOTDIR || err == syscall.ELOOP {
				return -1, fmt.Errorf("handler: log directory %s: %s is not a directory", d.path, at)
			}
			return -1, fmt.Errorf("handler: log directory %s: %w", d.path, err)
		}
		syscall.Close(fd)
		fd = next
	}
	return fd, nil
}

// verify makes sure the path still names the directory held, and reports
// whether the directory held changed:
//   - the directory was deleted: it is made again, and held instead;
//   - the path names another directory (the old one moved aside and a new
//     one made): that one is held instead;
//   - the path is, or goes through, a symbolic link, or is not a
//     directory: it is not followed. Writing goes on in the directory held
//     if it still exists (it was moved); if it was deleted, records fail
//     and are counted until the path is a directory again. The error is
//     returned once, when this is found.
func (d *logDir) verify() (changed bool, err error) {
	var st syscall.Stat_t
	if syscall.Lstat(d.path, &st) == nil && idOf(&st) == d.id {
		// The path leads to the directory held: whatever it goes through,
		// it leads nowhere else.
		d.refused = nil
		return false, nil
	}
	fd, err := d.walk(false)
	if err != nil && errors.Is(err, syscall.ENOENT) {
		fd, err = d.walk(true)
	}
	if err != nil {
		first := d.refused == nil
		d.refused = err
		if !first {
			return false, nil
		}
		if d.deleted() {
			return false, fmt.Errorf("%w; the directory opened at start was deleted: records fail until %s is a directory again", err, d.path)
		}
		return false, fmt.Errorf("%w; writing goes on in the directory opened at start, wherever it now is", err)
	}
	d.refused = nil
	if sameFD(fd, d.fd) {
		syscall.Close(fd)
		return false, nil
	}
	syscall.Close(d.fd)
	d.hold(fd)
	return true, nil
}

// deleted reports whether the directory held was deleted.
func (d *logDir) deleted() bool {
	var st syscall.Stat_t
	return syscall.Fstat(d.fd, &st) == nil && st.Nlink == 0
}

// close closes the directory.
func (d *logDir) close() error {
	if d.fd < 0 {
		return nil
	}
	err := syscall.Close(d.fd)
	d.fd = -1
	return err
}

// openFile opens a regular file of the directory, never through a symbolic
// link (the error says so) and never a FIFO or device planted at its name.
// It returns the file and what fstat(2) says of it.
func (d *logDir) openFile(name string, flags int, perm os.FileMode) (*os.File, fileInfo, error) {
	fd, err := openRetry(d.fd, name, flags|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, uint32(perm))
	if err != nil {
		if err == syscall.ELOOP {
			return nil, fileInfo{}, &os.PathError{Op: "open", Path: d.join(name), Err: fmt.Errorf("%w (a symbolic link is at the log file's path; remove it)", err)}
		}
		if err == syscall.ENOENT && d.refused != nil {
			return nil, fileInfo{}, d.refused
		}
		if st, serr := d.stat(name); serr == nil && !st.regular {
			err = errNotRegular // a FIFO without a reader: ENXIO
		}
		return nil, fileInfo{}, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, fileInfo{}, &os.PathError{Op: "stat", Path: d.join(name), Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, fileInfo{}, &os.PathError{Op: "open", Path: d.join(name), Err: errNotRegular}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, fileInfo{}, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return os.NewFile(uintptr(fd), d.join(name)), infoOf(&st), nil
}

// stat looks at a file of the directory, not following a symbolic link.
func (d *logDir) stat(name string) (fileInfo, error) {
	var st syscall.Stat_t
	if err := retryEINTR(func() error { return fstatat(d.fd, name, &st) }); err != nil {
		return fileInfo{}, err
	}
	return infoOf(&st), nil
}

// fileID identifies a file: its device and inode numbers.
type fileID struct{ dev, ino uint64 }

// idOf is the identity of the file st describes.
func idOf(st *syscall.Stat_t) fileID {
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
}

// infoOf is what st says of a file.
func infoOf(st *syscall.Stat_t) fileInfo {
	return fileInfo{
		size:    st.Size,
		mtime:   time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
		regular: st.Mode&syscall.S_IFMT == syscall.S_IFREG,
		id:      idOf(st),
	}
}

// holds reports whether name in the directory is the file id.
func (d *logDir) holds(name string, id fileID) bool {
	st, err := d.stat(name)
	return err == nil && st.id == id
}

// names lists the directory.
func (d *logDir) names() ([]string, error) {
	fd, err := openRetry(d.fd, ".", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

// link gives the file old a second name, new; it fails with EEXIST when
// new exists: it never replaces a file.
func (d *logDir) link(old, new string) error {
	oldp, err := syscall.BytePtrFromString(old)
	if err != nil {
		return err
	}
	newp, err := syscall.BytePtrFromString(new)
	if err != nil {
		return err
	}
	err = retryEINTR(func() error {
		_, _, e := syscall.Syscall6(syscall.SYS_LINKAT, uintptr(d.fd), uintptr(unsafe.Pointer(oldp)),
			uintptr(d.fd), uintptr(unsafe.Pointer(newp)), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	})
	if err != nil {
		return &os.LinkError{Op: "link", Old: d.join(old), New: d.join(new), Err: err}
	}
	return nil
}

// rename renames old to new, replacing new.
func (d *logDir) rename(old, new string) error {
	if err := retryEINTR(func() error { return syscall.Renameat(d.fd, old, d.fd, new) }); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(old), New: d.join(new), Err: err}
	}
	return nil
}

// remove removes a file of the directory.
func (d *logDir) remove(name string) error {
	if err := retryEINTR(func() error { return syscall.Unlinkat(d.fd, name) }); err != nil {
		return &os.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// fstatat is fstatat(2) with AT_SYMLINK_NOFOLLOW, which package syscall
// does not export on every architecture: a descriptor that locates the
// file (O_PATH), then fstat(2).
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	fd, err := syscall.Openat(dirfd, name, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Fstat(fd, st)
}

// sameFD reports whether two descriptors are of the same file.
func sameFD(a, b int) bool {
	var sa, sb syscall.Stat_t
	return syscall.Fstat(a, &sa) == nil && syscall.Fstat(b, &sb) == nil && idOf(&sa) == idOf(&sb)
}

// openRetry is syscall.Openat, retried when a signal interrupts it (as
// package os does).
func openRetry(dirfd int, name string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Openat(dirfd, name, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// retryEINTR calls f until a signal does not interrupt it.
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
