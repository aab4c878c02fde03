//go:build linux || darwin || dragonfly || freebsd || illumos || netbsd || openbsd

package handler

import (
	"os"
	"syscall"
)

// tryLock takes f's flock(2), exclusive or shared, without waiting: it
// fails with errLocked when another open file holds it in a way that
// conflicts, and with the system's error when the file system has no locks.
// The lock goes with the open file, and with the process, even killed.
func tryLock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return errLocked
	}
	return err
}

// unlock lets go of f's lock.
func unlock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
