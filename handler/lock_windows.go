package handler

import (
	"os"
	"syscall"
	"unsafe"
)

// LockFileEx and UnlockFileEx, which package syscall does not export.
var (
	kernel32         = syscall.NewLazyDLL("kernel32.dll")
	procLockFileEx   = kernel32.NewProc("LockFileEx")
	procUnlockFileEx = kernel32.NewProc("UnlockFileEx")
)

const (
	lockfileFailImmediately = 0x1
	lockfileExclusiveLock   = 0x2
	errorLockViolation      = syscall.Errno(33) // ERROR_LOCK_VIOLATION
)

// lockOffset is where the one byte locked lies: far past any data, since
// Windows' locks are mandatory for the bytes they cover, and a lock of the
// file's own bytes would stop others reading them.
const lockOffset = 1 << 62

// tryLock takes f's lock, exclusive or shared, without waiting: it fails
// with errLocked when another handle holds it in a way that conflicts.
// LockFileEx's locks are of a handle, as flock(2)'s are of an open file,
// and go with the process, even killed.
func tryLock(f *os.File, exclusive bool) error {
	flags := uint32(lockfileFailImmediately)
	if exclusive {
		flags |= lockfileExclusiveLock
	}
	ol := syscall.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	r, _, err := procLockFileEx.Call(f.Fd(), uintptr(flags), 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r != 0 {
		return nil
	}
	if err == errorLockViolation || err == syscall.ERROR_IO_PENDING {
		return errLocked
	}
	return err
}

// unlock lets go of f's lock.
func unlock(f *os.File) error {
	ol := syscall.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	r, _, err := procUnlockFileEx.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r != 0 {
		return nil
	}
	return err
}
