//go:build !unix

package config

import "os"

// CategoriesLimit is the most category files a session may open: without
// an open-file limit to read, MaxCategories.
func CategoriesLimit() int { return MaxCategories }

// writable reports whether this process may create files in the
// directory dir: without access(2), by creating one, removed at once.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".debugmode-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
