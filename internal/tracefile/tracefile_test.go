package tracefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestName(t *testing.T) {
	assert.Equal(t, "s_execution_trace_001.trace", Name("s", 1))
	for _, n := range []int{1, 12, 999, 1000, 123456789} {
		s, got, ok := Parse(Name("a_b", n))
		assert.True(t, ok)
		assert.Equal(t, "a_b", s)
		assert.Equal(t, n, got)
	}
	assert.Equal(t, "s_goroutines_002.txt", Goroutines.Name("s", 2))
	s, n, ok := Parse("a_b_goroutines_012.txt")
	assert.True(t, ok)
	assert.Equal(t, "a_b", s)
	assert.Equal(t, 12, n)
	for _, bad := range []string{"s_goroutines_1.txt", "s_goroutines_001.trace", "s_execution_trace_001.txt", "s_execution_trace_1.trace", "s_execution_trace_000.trace", "s_execution_trace_0001.trace", "s_execution_trace_001.jsonl", "s_execution_trace_1234567890.trace"} {
		_, _, ok := Parse(bad)
		assert.False(t, ok, bad)
	}
}

func TestLastCountsTheSessionsOwnSnapshots(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, 0, ExecutionTrace.Last(dir, "proxy"))
	assert.Equal(t, 0, ExecutionTrace.Last(filepath.Join(dir, "missing"), "proxy"))
	for _, name := range []string{"proxy_execution_trace_001.trace", "proxy_execution_trace_012.trace",
		"proxy_x_execution_trace_040.trace", "other_execution_trace_099.trace", "proxy_requests.jsonl", "proxy_requests.003.jsonl",
		"proxy_goroutines_007.txt", "proxy_goroutines_013.trace"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	assert.Equal(t, 12, ExecutionTrace.Last(dir, "proxy"))
	assert.Equal(t, 40, ExecutionTrace.Last(dir, "proxy_x"))
	assert.Equal(t, 99, ExecutionTrace.Last(dir, "other"))
	assert.Equal(t, 7, Goroutines.Last(dir, "proxy"), "each kind numbers its own")
}
