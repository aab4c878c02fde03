package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestDemoRuns is make demo with fewer requests: it must finish, find the
// scenario's stress events and report valid files.
func TestDemoRuns(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	t.Setenv("DEBUG_LOG_DIR", t.TempDir())
	t.Setenv("DEBUG_CONSOLE_LEVEL", "error")
	// The demo's scenario, scaled down in time (thresholds with it).
	t.Setenv("DEBUG_STRESS_SLOW", "requests=400ms,engine_selection=300ms")
	t.Setenv("DEBUG_STRESS_STALL", "400ms")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, demoproxy.Scenario{Requests: 100, Workers: 8, SlowStreamDuration: 600 * time.Millisecond, StallDuration: 600 * time.Millisecond,
		BreakerOpen: time.Second, SlowProvision: 400 * time.Millisecond, HealthInterval: 50 * time.Millisecond}))
	text := out.String()
	assert.Contains(t, text, "every one valid JSON; 0 records dropped")
	for _, typ := range []string{"slow_request", "high_slow_request_rate", "stream_stalled", "provisioning_circuit_breaker", "orchestrator_degraded"} {
		assert.Regexp(t, regexp.MustCompile(typ+` +\d+`), text)
	}
	// It ends with correlate's findings on the matched sample (the fake
	// orchestrator's own files) and the report to open.
	assert.Contains(t, text, "$ debuglog correlate --brief")
	assert.Regexp(t, `proxy stress orchestrator_degraded \(warning\)[^\n]*\n +1\. [^\n]*(circuit_breaker_opened|vpn_disconnection)`, text,
		"the proxy's degraded reading, explained by the breaker opening or the VPN drop (whichever its poll saw first)")
	assert.Regexp(t, `circuit_breaker_opened severity=critical failure_count=5: \d+ effects`, text)
	m := regexp.MustCompile(`xdg-open (\S+_report\.html)`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	assert.FileExists(t, m[1])
	assert.Regexp(t, `go run ./cmd/debuglog request [0-9a-f]+ `, text)
	if slogdebug.ExecutionTraceSupported() {
		// The execution trace of the seconds before the first event of a
		// request that had one: a slow request, unless the race detector on
		// a busy machine made an engine selection slow first.
		m := regexp.MustCompile(`go tool trace (\S+_execution_trace_\d+\.trace) +# the runtime's view of the seconds before [a-z ]+ ([0-9a-f]+): its task`).FindStringSubmatch(text)
		require.NotNil(t, m, text)
		assert.FileExists(t, m[1])
		assert.Contains(t, text, "go run ./cmd/debuglog request "+m[2]+" ")
		assert.Contains(t, text, "execution traces of the seconds before a stress event (execution_trace):")
		assert.Contains(t, text, "0 failed")
	}
}
