package handler

import (
	"os"
	"syscall"
	"unsafe"
)

// openNoFollow opens path as os.OpenFile would for the log directory's
// flags, except that a reparse point (a symbolic link, a junction) at path
// is opened itself, not followed (and so refused as not a regular file),
// and that others may rename or delete the file while it is open
// (FILE_SHARE_DELETE), as on Unix: rotation renames a new live file over
// the one still open, and the budget deletes files a reader has open. It
// is always opened for reading too: LockFileEx needs it.
func openNoFollow(path string, flags int, perm os.FileMode) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	access := uint32(syscall.GENERIC_READ)
	switch {
	case flags&os.O_APPEND != 0:
		// Appending only: no FILE_WRITE_DATA, which would let writes land
		// anywhere but the end.
		access |= syscall.FILE_APPEND_DATA | syscall.FILE_WRITE_ATTRIBUTES | syscall.STANDARD_RIGHTS_WRITE | syscall.SYNCHRONIZE
	case flags&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0:
		access |= syscall.GENERIC_WRITE
	}
	create := uint32(syscall.OPEN_EXISTING)
	switch {
	case flags&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		create = syscall.CREATE_NEW
	case flags&os.O_CREATE != 0:
		create = syscall.OPEN_ALWAYS
	}
	attrs := uint32(syscall.FILE_ATTRIBUTE_NORMAL)
	if perm&0o200 == 0 {
		attrs = syscall.FILE_ATTRIBUTE_READONLY
	}
	attrs |= syscall.FILE_FLAG_OPEN_REPARSE_POINT
	share := uint32(syscall.FILE_SHARE_READ | syscall.FILE_SHARE_WRITE | syscall.FILE_SHARE_DELETE)
	h, err := syscall.CreateFile(p, access, share, nil, create, attrs, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(h), path), nil
}

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

// lockRange is where the byte locked lies, as LockFileEx takes it.
func lockRange() *syscall.Overlapped {
	return &syscall.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
}

// tryLock is sys_unix.go's, with LockFileEx: its locks are of a handle, as
// flock(2)'s are of an open file, and go with the process, even killed.
func tryLock(f *os.File, exclusive bool) error {
	flags := uint32(lockfileFailImmediately)
	if exclusive {
		flags |= lockfileExclusiveLock
	}
	r, _, err := procLockFileEx.Call(f.Fd(), uintptr(flags), 0, 1, 0, uintptr(unsafe.Pointer(lockRange())))
	if r != 0 {
		return nil
	}
	if err == errorLockViolation || err == syscall.ERROR_IO_PENDING {
		return errLocked
	}
	return err
}

func unlock(f *os.File) error {
	r, _, err := procUnlockFileEx.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(lockRange())))
	if r != 0 {
		return nil
	}
	return err
}
