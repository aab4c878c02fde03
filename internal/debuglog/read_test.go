package debuglog

import (
	"os"
	"path/filepath"
	"strings"
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
