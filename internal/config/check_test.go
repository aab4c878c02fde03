package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	assert.NoError(t, CheckDir(dir))
	assert.NoError(t, CheckDir(filepath.Join(dir, "new", "deeper")), "New creates it")
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	assert.ErrorContains(t, CheckDir(file), "is not a directory")
	assert.ErrorContains(t, CheckDir(filepath.Join(file, "sub")), "is not a directory")
	if os.Getuid() != 0 { // root may write anywhere
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		assert.ErrorContains(t, CheckDir(filepath.Join(ro, "logs")), "its parent "+ro+" is not writable")
	}
}

// TestCheckDirAsksTheFileSystem: permission bits say yes to root anywhere;
// a directory under /proc still cannot be made (found in the acexy trial:
// DEBUG_STRICT passed DEBUG_LOG_DIR=/proc/nope for root). Nothing is left
// behind where the check succeeds.
func TestCheckDirAsksTheFileSystem(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, CheckDir(filepath.Join(dir, "logs")))
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents, "the check's probe is removed, and the directory not made")
	if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
		t.Skip("no /proc here to try a directory nothing can be made in")
	}
	assert.Error(t, CheckDir("/proc/nope"))
}
