package demoproxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/slogdebug"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func readCategory(t *testing.T, l *slogdebug.Logger, category string) []map[string]any {
	t.Helper()
	f, err := os.Open(l.Path(category))
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

// TestScenarioFiresTheStressEvents runs the demo's scenario, scaled down in
// time, and checks the files: one requests line per request, and every
// stress event the scenario is built to cause.
func TestScenarioFiresTheStressEvents(t *testing.T) {
	l, err := slogdebug.New(slogdebug.Config{
		Enabled: true, Dir: t.TempDir(),
		SlowThresholds: map[string]time.Duration{"requests": 400 * time.Millisecond, "engine_selection": 300 * time.Millisecond},
		StallThreshold: 400 * time.Millisecond,
	}, io.Discard)
	require.NoError(t, err)
	orchDir := t.TempDir()
	sc := &demoproxy.Scenario{Log: l, Requests: 200, Workers: 8, SlowStreamDuration: 600 * time.Millisecond, StallDuration: 600 * time.Millisecond,
		BreakerOpen: time.Second, SlowProvision: 400 * time.Millisecond, HealthInterval: 50 * time.Millisecond, OrchestratorDir: orchDir}
	report, err := sc.Run(context.Background())
	require.NoError(t, err)
	require.NoError(t, l.Close())

	assert.Zero(t, report.Failed)
	assert.Positive(t, report.ByStatus[503], "requests refused while the breaker was open")
	assert.Len(t, readCategory(t, l, "requests"), int(report.Requests))

	seen, stalled, slowStarts := map[string]bool{}, map[string]bool{}, 0
	for _, m := range readCategory(t, l, "stress") {
		seen[m["event_type"].(string)] = true
		if m["event_type"] == stressevent.SlowRequest {
			// A slow request is a slow start: its first byte came after the
			// threshold, whatever the stream's length. A long stream starts
			// at once; one is here only if a busy machine held its first
			// byte back that long (its own ttfb says so), never for lasting.
			assert.GreaterOrEqual(t, m["ttfb_ms"], 400.0, "a slow request waited past the threshold for its first byte: %v", m)
			if regexp.MustCompile(`^(long\d{3}|stall000)$`).MatchString(m["ace_id"].(string)) {
				assert.Less(t, m["ttfb_ms"], m["duration_ms"], "a long stream is slow to start, not slow for lasting: %v", m)
			}
			slowStarts += strings.Count(m["ace_id"].(string), "slow")
		}
		if m["event_type"] == stressevent.StreamStalled {
			stalled[m["ace_id"].(string)] = true
		}
	}
	assert.True(t, stalled["stall000"], "the stream that stalls halfway")
	for _, typ := range []string{stressevent.SlowRequest, stressevent.HighSlowRequestRate, stressevent.StreamStalled, stressevent.SlowEngineSelection,
		stressevent.ProvisioningCircuitBreaker, stressevent.HighProvisioningFailureRate, stressevent.OrchestratorDegraded, stressevent.OrchestratorRecovered} {
		assert.True(t, seen[typ], "stress event %s", typ)
	}
	assert.Equal(t, sc.SlowStreams, slowStarts, "every slow start")
	assert.Zero(t, l.Stats().Dropped)

	// With the VPN down (an ETA of 30s, beyond the clients' 10s) clients
	// were refused at once; with the breaker open (an ETA of 1s) they
	// waited for it, and were served.
	var failFast, retried int
	for _, m := range readCategory(t, l, "provisioning") {
		switch {
		case m["operation"] == "provision_failed" && m["decision"] == "fail_fast":
			failFast++
			assert.Equal(t, "eta 30s beyond the request's 10s budget", m["decision_reason"])
		case m["operation"] == "provision_backoff":
			retried++
			assert.Equal(t, "circuit_breaker", m["reason"])
		}
	}
	assert.Positive(t, failFast, "refused at once while the VPN was down")
	assert.Positive(t, retried, "waited for the breaker")

	// The orchestrator's own files, in its real format, tell the same story.
	require.Regexp(t, `^\d{8}_\d{6}$`, report.OrchestratorSession)
	orch := readOrchestratorFiles(t, orchDir, report.OrchestratorSession)
	names := func(category, key string) map[string]int {
		out := map[string]int{}
		for _, m := range orch[category] {
			if s, ok := m[key].(string); ok {
				out[s]++
			}
		}
		return out
	}
	assert.Equal(t, 1, names("session", "event")["session_start"])
	stressTypes := names("stress", "event_type")
	for _, typ := range []string{"vpn_disconnection", "circuit_breaker_opened", "slow_provisioning"} {
		assert.Equal(t, 1, stressTypes[typ], typ)
	}
	ops := names("provisioning", "operation")
	assert.Positive(t, ops["start_acestream_begin"])
	assert.Positive(t, ops["start_acestream_success"])
	assert.Positive(t, ops["start_acestream_failed"])
	assert.Equal(t, ops["start_acestream_begin"], ops["start_acestream_success"]+ops["start_acestream_failed"], "every provisioning ends")
	assert.Equal(t, 1, names("circuit_breaker", "state")["open"])
	assert.Equal(t, 4, names("circuit_breaker", "state")["closed"]-1, "four failures counted before the fifth opens it, and the close")
	vpn := names("vpn", "operation")
	assert.Equal(t, 2, vpn["transition"], "down and up")
	for _, m := range orch["provisioning"] {
		if m["operation"] == "start_acestream_failed" {
			assert.Contains(t, []string{"VPN is disconnected", "Circuit breaker is open after repeated failures"}, m["error"])
			assert.NotEmpty(t, m["request_id"], "the forwarded X-Request-ID")
		}
	}
}

// readOrchestratorFiles decodes the orchestrator's files, checking the
// real format on every line: the file names, the key order, Python's
// separators and isoformat timestamps.
func readOrchestratorFiles(t *testing.T, dir, session string) map[string][]map[string]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	stamp := regexp.MustCompile(`^\{"session_id": "` + session + `", "timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", "elapsed_seconds": \d+\.\d{1,3}, "`)
	out := map[string][]map[string]any{}
	for _, p := range paths {
		base := filepath.Base(p)
		require.True(t, strings.HasPrefix(base, session+"_"), base)
		category := strings.TrimSuffix(strings.TrimPrefix(base, session+"_"), ".jsonl")
		f, err := os.Open(p)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			require.Regexp(t, stamp, line)
			require.NotContains(t, line, `":"`, "json.dumps separators")
			var m map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &m), line)
			out[category] = append(out[category], m)
		}
		require.NoError(t, f.Close())
	}
	return out
}
