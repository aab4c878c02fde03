//go:build debugmode_notint

package slogdebug

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readsTintConsole(t *testing.T) {
	t.Helper()
	t.Skip("reads tint's console lines; built with debugmode_notint the console is slog's TextHandler (TestConsoleWithoutTint)")
}

// TestConsoleWithoutTint: built with -tags debugmode_notint, a Logger
// without a console of the program's own writes slog's text lines, at its
// console level and redacted as tint's are, and session_start names it.
func TestConsoleWithoutTint(t *testing.T) {
	var console bytes.Buffer
	l, err := New(Config{Enabled: true, Dir: t.TempDir(), ConsoleLevel: -4}, &console)
	require.NoError(t, err)
	l.Info("calling http://user:hunter2@orchestrator/engines", "token", "s3cret", "port", 6878)
	l.LogRequest(context.Background(), "GET", "/ace/getstream", 0, 200, "")
	require.NoError(t, l.Close())

	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(console.String()), "\n") {
		if strings.Contains(line, "calling") {
			lines = append(lines, line)
		}
	}
	require.Len(t, lines, 1, console.String())
	assert.Contains(t, lines[0], `level=INFO msg="calling http://REDACTED@orchestrator/engines" token=[REDACTED] port=6878`)
	assert.NotContains(t, console.String(), "hunter2")
	assert.NotContains(t, console.String(), "s3cret")
	assert.NotContains(t, console.String(), "msg=request", "category records below Info stay off the console")

	start := readFile(t, l, "session")[0]
	assert.Equal(t, "slog text handler (debugmode_notint)", start["config"].(map[string]any)["console"])
}
