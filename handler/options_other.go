//go:build !unix

package handler

import (
	"os"

	"github.com/proxydebug/debugmode/internal/config"
)

// categoriesLimit is the most category files a session may open: without
// an open-file limit to read, config.MaxCategories.
func categoriesLimit() int { return config.MaxCategories }

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
