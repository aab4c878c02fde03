//go:build unix && (!linux || debugmode_portable)

package handler

import (
	"os"
	"syscall"
)

// openNoFollow opens path, refusing a symbolic link or another file than a
// regular one at it (see openRegular).
func openNoFollow(path string, flags int, perm os.FileMode) (*os.File, error) {
	f, _, err := openRegular(path, flags, func(flags int) (int, error) {
		return syscall.Open(path, flags, uint32(perm.Perm()))
	})
	return f, err
}
