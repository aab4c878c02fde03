package debuglog

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommandLineIsPastedBackAsItIs: the demo prints the commands it ran
// with CommandLine; a shell reads each argument back unchanged, and
// nothing printed can drive the terminal.
func TestCommandLineIsPastedBackAsItIs(t *testing.T) {
	cases := []struct{ arg, want string }{
		{"/tmp/dl2demo/orchestrator", "/tmp/dl2demo/orchestrator"},
		{"--session", "--session"},
		{"20261207_184731,20261207_184732", "20261207_184731,20261207_184732"},
		{"", "''"},
		{"/home/me/debug logs", "'/home/me/debug logs'"},
		{"it's", `'it'\''s'`},
		{`C:\logs`, `'C:\logs'`},
		{"$(reboot)", "'$(reboot)'"},
		{"logs\x1b[31m", `$'logs\x1b[31m'`},
		{"a\nb", `$'a\x0ab'`},
		{"it's\t\\", `$'it\'s\x09\\'`},
		{"bidi\u202e", `$'bidi\u202e'`},
		{"caf\xe9", `$'caf\xe9'`},
	}
	var args []string
	for _, tc := range cases {
		got := CommandLine([]string{tc.arg})
		assert.Equal(t, tc.want, got, "%q", tc.arg)
		assert.Equal(t, got, safeText(got), "nothing a terminal acts on: %q", got)
		args = append(args, tc.arg)
	}
	bash, err := exec.LookPath("bash")
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("no bash to read the line back")
	}
	line := CommandLine(args)
	out, err := exec.Command(bash, "-c", `f() { for a in "$@"; do printf '%s\0' "$a"; done; }; f `+line).Output()
	require.NoError(t, err, line)
	assert.Equal(t, args, strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"), "bash reads %s back", line)
}
