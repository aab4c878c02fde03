//go:build darwin || freebsd

package debuglog

import (
	"os"
	"syscall"
)

// specialFileSystems are the file systems of macOS and FreeBSD whose
// regular files the kernel makes as they are read (by statfs type name).
var specialFileSystems = map[string]bool{"procfs": true, "linprocfs": true, "linsysfs": true, "devfs": true, "fdescfs": true, "fdesc": true}

// specialFS names the special file system f is on, or "" for an ordinary
// one. It asks through the descriptor without changing its mode.
func specialFS(f *os.File) string {
	rc, err := f.SyscallConn()
	if err != nil {
		return ""
	}
	var st syscall.Statfs_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fstatfs(int(fd), &st) }); err != nil || serr != nil {
		return ""
	}
	var name []byte
	for _, c := range st.Fstypename {
		if c == 0 {
			break
		}
		name = append(name, byte(c))
	}
	if specialFileSystems[string(name)] {
		return string(name)
	}
	return ""
}
