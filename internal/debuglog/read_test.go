package debuglog

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goodLine is one line of the orchestrator's VPN file.
const goodLine = `{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:16+00:00", "elapsed_seconds": 1.0, "operation": "health_check", "status": "healthy", "duration_ms": 10.0}` + "\n"

// debuglogBounded runs a command that must not hang: it fails the test if
// the command has not returned after a generous bound (a hang, not a slow
// machine).
func debuglogBounded(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := debuglog(args...)
		done <- result{code, out, errOut}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.err
	case <-time.After(60 * time.Second):
		t.Fatalf("debuglog %v hung", args)
		return 0, "", ""
	}
}

func dirWithGoodFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101715_vpn.jsonl"), []byte(goodLine+goodLine), 0o644))
	return dir
}

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

// TestUnreadableFileIsAWarning: a file that cannot be opened is reported,
// and the others are read.
func TestUnreadableFileIsAWarning(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a mode-000 file; the dangling link in TestOnlyRegularFilesAreRead covers an open that fails")
	}
	dir := dirWithGoodFile(t)
	locked := filepath.Join(dir, "20261126_101715_locked.jsonl")
	require.NoError(t, os.WriteFile(locked, []byte(goodLine), 0o000))
	code, out, errOut := debuglog("summary", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "permission denied; skipped")
	assert.Regexp(t, `vpn +2 `, out)
}

// TestEveryLongOrCutLineIsReported covers each way a line can be too long
// or cut, including an unterminated last line longer than the limit whose
// length is a multiple of the read buffer (once skipped silently).
func TestEveryLongOrCutLineIsReported(t *testing.T) {
	long := strings.Repeat("x", maxLine+1)
	blocks := 65 * (64 << 10) // > maxLine, a multiple of 64 KiB
	cases := []struct {
		name, content, want string
	}{
		{"unterminated last line, a multiple of 64 KiB", goodLine + strings.Repeat("y", blocks), `:2: line longer than 4194304 bytes \(unterminated; the writer was cut off\?\); skipped`},
		{"unterminated last line, not a multiple", goodLine + strings.Repeat("y", blocks+7), `:2: line longer than 4194304 bytes \(unterminated`},
		{"terminated long line", goodLine + `{"msg":"` + long + `"}` + "\n" + goodLine, `:2: line longer than 4194304 bytes; skipped`},
		{"long line exactly at a buffer boundary", goodLine + strings.Repeat("z", blocks-1) + "\n" + goodLine, `:2: line longer than 4194304 bytes; skipped`},
		{"partial last line", goodLine + `{"session_id": "2026`, `:2: partial last line \(the writer was cut off\?\); skipped`},
		{"line cut by the writer", goodLine + `{"timestamp":"2026-11-26T10:17:16.5Z","level":"DEBUG","msg":"m","x":"abc…","truncated":true}` + "\n",
			`:2: cut by the writer at its line limit \("truncated": true\); read as it is`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101715_vpn.jsonl"), []byte(c.content), 0o644))
			code, _, errOut := debuglog("summary", dir)
			require.Equal(t, 0, code)
			assert.Regexp(t, c.want, errOut)
		})
	}
}

// TestWarningsPastTheCapAreCounted: past ten warnings a file, the rest are
// counted, not lost.
func TestWarningsPastTheCapAreCounted(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101715_vpn.jsonl"), []byte(strings.Repeat("garbage\n", 25)+goodLine), 0o644))
	code, out, errOut := debuglog("summary", dir)
	require.Equal(t, 0, code)
	assert.Equal(t, 10, strings.Count(errOut, ": not JSON"))
	assert.Contains(t, errOut, "_vpn.jsonl: 15 more warnings not shown (25 in all)")
	assert.Contains(t, out, "25 malformed lines skipped")
}
