//go:build unix

package debuglog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFileNamesAreEscapedWherePrinted: a file name holding terminal escapes
// and a newline (forged: set the title, then a line that looks like an
// event) is printed escaped like a value wherever a command names it: in
// warnings, argument errors, the report's "wrote" line and a category taken
// from the file's name.
func TestFileNamesAreEscapedWherePrinted(t *testing.T) {
	proxy := writeProxyFiles(t)
	orch := t.TempDir()
	entries, err := os.ReadDir(orchDir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(orchDir, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(orch, e.Name()), b, 0o644))
	}
	// An orchestrator file whose name (and so category) is forged, with a
	// failure during the proxy's effects and a garbage line.
	forgedFile := filepath.Join(orch, "20261126_101715_"+forged+".jsonl")
	require.NoError(t, os.WriteFile(forgedFile, []byte(`{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:16.600000+00:00", "operation": "x_failed", "success": false, "error": "VPN not connected"}`+"\ngarbage\n"), 0o644))
	missing := filepath.Join(t.TempDir(), forged)

	for _, args := range [][]string{
		{"summary", orch},
		{"timeline", orch},
		{"correlate", "--proxy", proxy, "--orch", orch},
		{"request", "req-b", proxy, orch},
		{"report", orch, "-o", filepath.Join(t.TempDir(), forged+".html")},
		{"report", orch, "-o", filepath.Join(missing, "r.html")},
		{"summary", missing},
		{"timeline", "--follow", missing},
		{"timeline", "--follow", forgedFile},
	} {
		_, out, errOut := debuglogBounded(t, args...)
		for name, text := range map[string]string{"stdout": out, "stderr": errOut} {
			assert.NotContains(t, text, "\x1b", "%v: %s", args, name)
			assert.NotContains(t, text, "\x07", "%v: %s", args, name)
			for _, l := range strings.Split(text, "\n") {
				assert.False(t, strings.HasPrefix(strings.TrimSpace(l), "2026-11-26T10:17:16.000000Z  proxy  stress"), "%v: %s: a forged line %q", args, name, l)
			}
		}
		assert.True(t, strings.Contains(out+errOut, `\x1b]0;pwned\x07\n2026`), "%v: the name, escaped: %s%s", args, out, errOut)
	}
}
