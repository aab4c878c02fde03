package demoproxy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
	"github.com/proxydebug/debugmode/stress"
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
	}, io.Discard)
	require.NoError(t, err)
	sc := &demoproxy.Scenario{Log: l, Requests: 200, Workers: 8, SlowStreamDuration: 600 * time.Millisecond,
		BreakerOpen: time.Second, SlowProvision: 400 * time.Millisecond, HealthInterval: 50 * time.Millisecond}
	report, err := sc.Run(context.Background())
	require.NoError(t, err)
	require.NoError(t, l.Close())

	assert.Zero(t, report.Failed)
	assert.Positive(t, report.ByStatus[503], "requests refused while the breaker was open")
	assert.Len(t, readCategory(t, l, "requests"), int(report.Requests))

	seen := map[string]bool{}
	for _, m := range readCategory(t, l, "stress") {
		seen[m["event_type"].(string)] = true
	}
	for _, typ := range []string{stress.SlowRequest, stress.HighSlowRequestRate, stress.SlowEngineSelection,
		stress.ProvisioningCircuitBreaker, stress.HighProvisioningFailureRate, stress.OrchestratorDegraded, stress.OrchestratorRecovered} {
		assert.True(t, seen[typ], "stress event %s", typ)
	}
	assert.Zero(t, l.Stats().Dropped)
}
