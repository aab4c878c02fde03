package debuglog

import (
	"os"
	"syscall"
)

// specialFileSystems are the Linux file systems whose regular files the
// kernel makes as they are read (by statfs magic number).
var specialFileSystems = map[int64]string{
	0x9fa0:     "procfs",
	0x62656572: "sysfs",
	0x64626720: "debugfs",
	0x74726163: "tracefs",
	0x73636673: "securityfs",
	0x27e0eb:   "cgroupfs",
	0x63677270: "cgroup2fs",
	0xcafe4a11: "bpffs",
	0x62656570: "configfs",
	0xf97cff8c: "selinuxfs",
	0x65735543: "fusectl",
	0xde5e81e4: "efivarfs",
	0x1cd1:     "devpts",
}

// specialFS names the special file system f is on, or "" for an ordinary
// one. It asks through the descriptor without changing its mode (Fd would
// make it blocking).
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
	return specialFileSystems[int64(st.Type)]
}
