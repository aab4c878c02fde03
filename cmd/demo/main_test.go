package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/internal/debuglog"
	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestDemoRuns is make demo with fewer requests, into a directory an
// earlier run wrote to: it must finish, find the scenario's stress events,
// report valid files, and print exactly the debuglog commands it ran (and
// suggests), which read its own session only.
func TestDemoRuns(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	dir := t.TempDir()
	t.Setenv("DEBUG_LOG_DIR", dir)
	t.Setenv("DEBUG_CONSOLE_LEVEL", "error")
	// The demo's scenario, scaled down in time (thresholds with it).
	t.Setenv("DEBUG_STRESS_SLOW", "requests=400ms,engine_selection=300ms")
	t.Setenv("DEBUG_STRESS_STALL", "400ms")
	// An earlier run's files, in both systems' directories.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "orchestrator"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20200101_000000_requests.jsonl"), []byte(`{"session_id":"20200101_000000","timestamp":"2020-01-01T00:00:01.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"req-earlier","method":"GET","path":"/ace/getstream","duration_ms":3.0,"status_code":503}`+"\n"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "orchestrator", "20200101_000000_provisioning.jsonl"), []byte(`{"session_id": "20200101_000000", "timestamp": "2020-01-01T00:00:01.000000+00:00", "elapsed_seconds": 1.0, "operation": "start_acestream_failed", "success": false, "error": "VPN is disconnected", "request_id": "req-earlier"}`+"\n"), 0o640))

	var ran [][]string
	runDebuglog = func(args []string, stdout, stderr io.Writer) int {
		ran = append(ran, append([]string{}, args...))
		return debuglog.Run(args, stdout, stderr)
	}
	t.Cleanup(func() { runDebuglog = debuglog.Run })
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, demoproxy.Scenario{Requests: 100, Workers: 8, SlowStreamDuration: 600 * time.Millisecond, StallDuration: 600 * time.Millisecond,
		BreakerOpen: time.Second, SlowProvision: 400 * time.Millisecond, HealthInterval: 50 * time.Millisecond}))
	text := out.String()
	assert.Contains(t, text, "every one valid JSON; 0 records dropped")
	for _, typ := range []string{"slow_request", "high_slow_request_rate", "stream_stalled", "provisioning_circuit_breaker", "orchestrator_degraded"} {
		assert.Regexp(t, regexp.MustCompile(typ+` +\d+`), text)
	}

	// The commands it ran, each printed exactly as it ran, naming its
	// session: nothing of the earlier run is read, nothing is mixed.
	require.Len(t, ran, 2, "correlate and report")
	assert.Equal(t, []string{"correlate", "--brief"}, ran[0][:2])
	assert.Equal(t, "report", ran[1][0])
	session := regexp.MustCompile(`debug session (\S+) in `).FindStringSubmatch(text)
	require.NotNil(t, session, text)
	for _, args := range ran {
		assert.Contains(t, text, "\n$ go run ./cmd/debuglog "+debuglog.CommandLine(args)+"\n", "printed as it ran")
		assert.Contains(t, debuglog.CommandLine(args), "--session "+session[1], "its own session")
	}
	assert.NotContains(t, text, "req-earlier")
	assert.NotContains(t, text, "read together", "no sessions mixed")

	// It ends with correlate's findings on the matched sample (the fake
	// orchestrator's own files) and the report to open.
	assert.Regexp(t, `proxy stress orchestrator_degraded \(warning\)[^\n]*\n +1\. [^\n]*(circuit_breaker_opened|vpn_disconnection)`, text,
		"the proxy's degraded reading, explained by the breaker opening or the VPN drop (whichever its poll saw first)")
	assert.Regexp(t, `circuit_breaker_opened severity=critical failure_count=5: \d+ effects`, text)
	m := regexp.MustCompile(`xdg-open (\S+_report\.html)`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	assert.FileExists(t, m[1])
	assert.Regexp(t, `go run ./cmd/debuglog request [0-9a-f]+ --session [^\n]*# one request refused at once while provisioning was blocked`, text)
	assert.Regexp(t, `go run ./cmd/debuglog request [0-9a-f]+ --session [^\n]*# one request that waited for the circuit breaker's ETA`, text)
	// The commands it suggests run as they are printed (the paths here
	// hold no character a shell would need quoted).
	next := text[strings.Index(text, "\nnext:\n"):]
	suggested := 0
	for _, line := range strings.Split(next, "\n") {
		line, _, _ = strings.Cut(strings.TrimSpace(line), "    #")
		if args, ok := strings.CutPrefix(line, "go run ./cmd/debuglog "); ok {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, 0, debuglog.Run(strings.Fields(args), &stdout, &stderr), "%s: %s", line, stderr.String())
			assert.NotContains(t, stderr.String(), "read together", line)
			suggested++
		}
	}
	assert.GreaterOrEqual(t, suggested, 3, next)
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
