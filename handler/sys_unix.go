//go:build unix

package handler

import (
	"os"
	"syscall"
)

// openRegular opens a log file with open (openat(2) or open(2)), not
// following a symbolic link at it (O_NOFOLLOW) and not blocking on a FIFO
// planted there (O_NONBLOCK, cleared once the file is found to be
// regular): anything but a regular file is refused (errNotRegular).
func openRegular(name string, flags int, open func(flags int) (int, error)) (*os.File, *syscall.Stat_t, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = open(flags | syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var st syscall.Stat_t
	if err = syscall.Fstat(fd, &st); err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		err = errNotRegular
	}
	if err == nil {
		err = syscall.SetNonblock(fd, false)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), name), &st, nil
}

// retryEINTR calls f until a signal does not interrupt it (as package os
// does).
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

// tryLock takes f's flock(2), exclusive or shared, without waiting: it
// fails with errLocked when another open file holds it in a way that
// conflicts, and with the system's error when the file system has no locks.
// The lock goes with the open file, and with the process, even killed.
func tryLock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != syscall.EWOULDBLOCK {
		return err
	}
	return errLocked
}

func unlock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
