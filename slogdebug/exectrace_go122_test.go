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
// the execution trace recorder is a configuration error that says why.
func TestExecutionTraceNeedsGo125(t *testing.T) {
	_, err := configFromMap(map[string]string{"DEBUG_EXECUTION_TRACE": "10s"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `DEBUG_EXECUTION_TRACE="10s": want 0 (off): the execution trace recorder needs a program built with Go 1.25 or newer (runtime/trace.FlightRecorder); this one is built with `+runtime.Version())
	assert.Equal(t, 1, strings.Count(err.Error(), "needs a program"), "said once")

	_, err = New(Config{Dir: t.TempDir(), ExecutionTrace: 10 * time.Second}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ExecutionTrace 10s: want 0 (off): the execution trace recorder needs a program built with Go 1.25 or newer")

	_, err = configFromMap(map[string]string{"DEBUG_EXECUTION_TRACE": "0"})
	assert.NoError(t, err, "off is fine")
}
