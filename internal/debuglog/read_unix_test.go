//go:build unix

package debuglog

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyRegularFilesAreRead: a FIFO, a link to /dev/zero, a directory, a
// symlink loop, a dangling link, all named *.jsonl, are skipped with a
// warning each, and the regular files are still read.
func TestOnlyRegularFilesAreRead(t *testing.T) {
	dir := dirWithGoodFile(t)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "20261126_101715_fifo.jsonl"), 0o644))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "20261126_101715_zero.jsonl")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "20261126_101715_dir.jsonl"), 0o755))
	require.NoError(t, os.Symlink("20261126_101715_loopb.jsonl", filepath.Join(dir, "20261126_101715_loopa.jsonl")))
	require.NoError(t, os.Symlink("20261126_101715_loopa.jsonl", filepath.Join(dir, "20261126_101715_loopb.jsonl")))
	require.NoError(t, os.Symlink("nowhere.jsonl", filepath.Join(dir, "20261126_101715_dangling.jsonl")))

	for _, cmd := range [][]string{{"summary", dir}, {"timeline", dir}, {"report", dir, "-o", filepath.Join(t.TempDir(), "r.html")},
		{"correlate", "--proxy", dir, "--orch", dir}} {
		code, out, errOut := debuglogBounded(t, cmd...)
		require.Equal(t, 0, code, "%v: %s", cmd, errOut)
		assert.Regexp(t, `_fifo\.jsonl: not a regular file \(named pipe\); skipped`, errOut, cmd)
		assert.Regexp(t, `_zero\.jsonl: not a regular file \(device\); skipped`, errOut, cmd)
		assert.Regexp(t, `_dir\.jsonl: not a regular file \(directory\); skipped`, errOut, cmd)
		assert.Regexp(t, `_loopa\.jsonl: .*too many levels of symbolic links; skipped`, errOut, cmd)
		assert.Regexp(t, `_dangling\.jsonl: .*no such file or directory; skipped`, errOut, cmd)
		if cmd[0] == "summary" {
			assert.Regexp(t, `vpn +2 `, out, "the regular file is read")
		}
	}

	// Named on the command line, a FIFO is skipped the same way.
	code, _, errOut := debuglogBounded(t, "summary", filepath.Join(dir, "20261126_101715_fifo.jsonl"), filepath.Join(dir, "20261126_101715_vpn.jsonl"))
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "not a regular file (named pipe)")
}
