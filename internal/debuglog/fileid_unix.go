//go:build unix

package debuglog

import (
	"os"
	"syscall"
)

// identify returns the identity of the file at path, which fi describes.
func identify(_ string, fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}
