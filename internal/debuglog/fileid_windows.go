package debuglog

import (
	"os"
	"syscall"
)

// fileReadAttributes is FILE_READ_ATTRIBUTES, which package syscall does
// not name.
const fileReadAttributes = 0x80

// identify returns the identity of the file at path: its volume serial
// number and file index, which fi does not carry, so the file is opened
// (for its attributes only) to ask.
func identify(path string, _ os.FileInfo) (fileID, bool) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return fileID{}, false
	}
	share := uint32(syscall.FILE_SHARE_READ | syscall.FILE_SHARE_WRITE | syscall.FILE_SHARE_DELETE)
	h, err := syscall.CreateFile(p, fileReadAttributes, share, nil, syscall.OPEN_EXISTING, syscall.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fileID{}, false
	}
	defer syscall.CloseHandle(h)
	var info syscall.ByHandleFileInformation
	if syscall.GetFileInformationByHandle(h, &info) != nil {
		return fileID{}, false
	}
	return fileID{dev: uint64(info.VolumeSerialNumber), ino: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow)}, true
}
