package handler

import (
	"os"
	"syscall"
)

// openNoFollow opens path as os.OpenFile would, for the flags the log
// directory uses (O_RDONLY, O_WRONLY or O_RDWR; O_APPEND, O_CREATE,
// O_EXCL), with two differences:
//   - a reparse point (a symbolic link, a junction) at path is opened
//     itself, not followed, and so refused as not a regular file;
//   - others may rename or delete the file while it is open
//     (FILE_SHARE_DELETE), as on Unix: rotation renames a new live file
//     over the one still open, and the budget deletes files a reader has
//     open.
//
// The file is always opened for reading too: LockFileEx needs it.
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
