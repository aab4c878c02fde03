//go:build unix

package config

import "syscall"

// CategoriesLimit is the most category files a session may open:
// MaxCategories, and a quarter of the open-file limit.
func CategoriesLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur/4 >= MaxCategories {
		return MaxCategories
	}
	return max(int(rl.Cur/4), 1)
}

// writable reports whether this process may create files in the
// directory dir (access(2), W_OK|X_OK).
func writable(dir string) error {
	return syscall.Access(dir, 0x2|0x1)
}
