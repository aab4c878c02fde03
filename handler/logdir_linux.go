//go:build !debugmode_portable

package handler

import (
	"cmp"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// On Linux the log directory is held open: every file is opened, linked,
// renamed, removed and looked at relative to it, never through a symbolic
// link, so the directory's path swapped for a link leads nothing elsewhere.

// oPath is O_PATH, which package syscall does not name.
const oPath = 0x200000

// fileID identifies a file: its device and inode numbers.
type fileID struct{ dev, ino uint64 }

func (a fileID) same(b fileID) bool { return a == b }

// hold makes fd the directory held, unless it is the one held already.
func (d *logDir) hold(fd int) {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) == nil && d.fd >= 0 && idOf(&st) == d.id {
		syscall.Close(fd)
		return
	}
	d.close()
	d.fdMu.Lock()
	d.fd, d.id = fd, idOf(&st)
	d.fdMu.Unlock()
}

// walk opens the directory at d.path, component by component, following
// no symbolic link; with create it makes the missing components.
func (d *logDir) walk(create bool) (int, error) {
	fd, err := openat(-1, "/", oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("handler: log directory %s: %w", d.path, err)
	}
	parts := strings.Split(strings.Trim(d.path, "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		flags := syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
		if i < len(parts)-1 {
			flags |= oPath // only the directory held is read
		}
		if create {
			if err := retryEINTR(func() error { return syscall.Mkdirat(fd, part, uint32(d.mode)) }); err != nil && err != syscall.EEXIST {
				syscall.Close(fd)
				return -1, fmt.Errorf("handler: recreate log directory %s: %w", d.path, err)
			}
		}
		next, err := openat(fd, part, flags)
		if err != nil {
			at := "/" + strings.Join(parts[:i+1], "/")
			var st syscall.Stat_t
			lerr := retryEINTR(func() error { return fstatat(fd, part, &st) })
			syscall.Close(fd)
			if lerr == nil && st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
				return -1, d.errAt(at, isSymlink)
			}
			if err == syscall.ENOTDIR || err == syscall.ELOOP {
				return -1, d.errAt(at, notDir)
			}
			return -1, fmt.Errorf("handler: log directory %s: %w", d.path, err)
		}
		syscall.Close(fd)
		fd = next
	}
	return fd, nil
}

// refusal is verify's error for a path it does not follow: writing goes on
// in the directory held unless it was deleted.
func (d *logDir) refusal(err error) error {
	var st syscall.Stat_t
	if syscall.Fstat(d.fd, &st) == nil && st.Nlink == 0 {
		return fmt.Errorf("%w; the directory opened at start was deleted: records fail until %s is a directory again", err, d.path)
	}
	return fmt.Errorf("%w; writing goes on in the directory opened at start, wherever it now is", err)
}

// dup returns a copy of d holding its own handle of the directory; any
// goroutine may call it, while the writer closes or replaces d's.
func (d *logDir) dup() (*logDir, error) {
	d.fdMu.Lock()
	defer d.fdMu.Unlock()
	if d.fd < 0 {
		return nil, fmt.Errorf("handler: the session's files are closed: log directory %s is not held open", d.path)
	}
	fd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(d.fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return nil, fmt.Errorf("handler: log directory %s: %w", d.path, errno)
	}
	return &logDir{path: d.path, mode: d.mode, fd: int(fd), id: d.id}, nil
}

func (d *logDir) close() (err error) {
	d.fdMu.Lock()
	defer d.fdMu.Unlock()
	if d.fd >= 0 {
		err, d.fd = syscall.Close(d.fd), -1
	}
	return err
}

// openFile opens a regular file of the directory, never through a symlink
// nor a FIFO or device planted at its name.
func (d *logDir) openFile(name string, flags int, perm os.FileMode) (*os.File, fileInfo, error) {
	f, st, err := openRegular(d.join(name), flags, func(flags int) (int, error) {
		return syscall.Openat(d.fd, name, flags, uint32(perm))
	})
	switch {
	case err == nil:
		return f, infoOf(st), nil
	case err == syscall.ELOOP:
		err = fmt.Errorf("%w (a symbolic link is at the log file's path; remove it)", err)
	case err == syscall.ENOENT && d.refused != nil:
		return nil, fileInfo{}, d.refused
	case err != errNotRegular:
		if st, serr := d.stat(name); serr == nil && !st.regular {
			err = errNotRegular // a FIFO without a reader: ENXIO
		}
	}
	return nil, fileInfo{}, &os.PathError{Op: "open", Path: d.join(name), Err: err}
}

// stat looks at a file of the directory, not following a symbolic link.
func (d *logDir) stat(name string) (fileInfo, error) {
	var st syscall.Stat_t
	if err := retryEINTR(func() error { return fstatat(d.fd, name, &st) }); err != nil {
		return fileInfo{}, err
	}
	return infoOf(&st), nil
}

// lstat looks at absolute path, not following a symbolic link.
func lstat(path string) (fileInfo, error) { return (&logDir{fd: -1}).stat(path) }

func idOf(st *syscall.Stat_t) fileID { return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)} }

func infoOf(st *syscall.Stat_t) fileInfo {
	mtime := time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))
	return fileInfo{size: st.Size, mtime: mtime, regular: st.Mode&syscall.S_IFMT == syscall.S_IFREG, id: idOf(st)}
}

func (d *logDir) names() ([]string, error) {
	fd, err := openat(d.fd, ".", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	return f.Readdirnames(-1)
}

// link gives old a second name, new; it never replaces a file.
func (d *logDir) link(old, new string) error {
	oldp, err := syscall.BytePtrFromString(old)
	newp, err2 := syscall.BytePtrFromString(new)
	if err = cmp.Or(err, err2); err == nil {
		err = retryEINTR(func() error {
			_, _, e := syscall.Syscall6(syscall.SYS_LINKAT, uintptr(d.fd), uintptr(unsafe.Pointer(oldp)),
				uintptr(d.fd), uintptr(unsafe.Pointer(newp)), 0, 0)
			if e != 0 {
				return e
			}
			return nil
		})
	}
	if err != nil {
		return &os.LinkError{Op: "link", Old: d.join(old), New: d.join(new), Err: err}
	}
	return nil
}

func (d *logDir) rename(old, new string) error {
	if err := retryEINTR(func() error { return syscall.Renameat(d.fd, old, d.fd, new) }); err != nil {
		return &os.LinkError{Op: "rename", Old: d.join(old), New: d.join(new), Err: err}
	}
	return nil
}

func (d *logDir) remove(name string) error {
	if err := retryEINTR(func() error { return syscall.Unlinkat(d.fd, name) }); err != nil {
		return &os.PathError{Op: "remove", Path: d.join(name), Err: err}
	}
	return nil
}

// fstatat is fstatat(2) with AT_SYMLINK_NOFOLLOW, missing on some arches.
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	fd, err := syscall.Openat(dirfd, name, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Fstat(fd, st)
}

// openat is syscall.Openat, retried when a signal interrupts it.
func openat(dirfd int, name string, flags int) (fd int, err error) {
	err = retryEINTR(func() error { fd, err = syscall.Openat(dirfd, name, flags, 0); return err })
	return fd, err
}
