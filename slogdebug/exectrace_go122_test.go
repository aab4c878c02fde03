//go:build !go1.25

package slogdebug

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExecutionTraceNeedsGo125: built with a Go older than 1.25, asking for
// the execution trace recorder is a configuration problem that says why: the
// recorder stays off (with DEBUG_STRICT, a start-up error).
func TestExecutionTraceNeedsGo125(t *testing.T) {
	want := `DEBUG_EXECUTION_TRACE="10s": want 0 (off): the execution trace recorder needs a program built with Go 1.25 or newer (runtime/trace.FlightRecorder); this one is built with ` + runtime.Version()
	_, err := configFromMap(strict(map[string]string{"DEBUG_EXECUTION_TRACE": "10s"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), want)
	assert.Equal(t, 1, strings.Count(err.Error(), "needs a program"), "said once")

	cfg, err := configFromMap(map[string]string{"DEBUG_EXECUTION_TRACE": "10s", "DEBUG_MODE": "true"})
	require.NoError(t, err)
	assert.Zero(t, cfg.ExecutionTrace, "off")
	assert.True(t, cfg.Enabled, "debug mode as asked")
	require.Len(t, cfg.env.problems, 1)
	assert.Equal(t, want, cfg.env.problems[0].Error())
	assert.Equal(t, "it takes its default, off", cfg.env.problems[0].effect)

	_, err = New(Config{Dir: t.TempDir(), ExecutionTrace: 10 * time.Second}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ExecutionTrace 10s: want 0 (off): the execution trace recorder needs a program built with Go 1.25 or newer")

	_, err = configFromMap(map[string]string{"DEBUG_EXECUTION_TRACE": "0"})
	assert.NoError(t, err, "off is fine")
}
