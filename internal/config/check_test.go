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
