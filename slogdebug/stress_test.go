package slogdebug

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/stress"
)

// TestStressDetectionEndToEnd turns debug mode on and checks that the
// default rules write their events to the stress file and, at Warn and
// Error, to the console, while the records that caused them stay in their
// own files.
func TestStressDetectionEndToEnd(t *testing.T) {
	l, console := newDebugLogger(t, Config{StressCooldown: -1})
	ctx := context.Background()

	l.LogRequest(ctx, "GET", "/ace/getstream", 5*time.Second, 200, "edge")         // exactly 5s: not slow
	l.LogRequest(ctx, "GET", "/ace/getstream", 7500*time.Millisecond, 200, "slow") // slow
	l.LogEngineSelection(ctx, "select_best_engine", "127.0.0.1", 6878, "c1", 3*time.Second, nil)
	l.LogProvisioning(ctx, "provision_attempt_failed", time.Second, false, errors.New("provisioning blocked: circuit breaker is open"), 1)
	l.LogOrchestratorHealth(ctx, OrchestratorHealth{Status: "healthy", CanProvision: true})
	l.LogOrchestratorHealth(ctx, OrchestratorHealth{Status: "degraded", BlockedReason: "VPN disconnected", BlockedReasonCode: "vpn_disconnected"})
	l.LogOrchestratorHealth(ctx, OrchestratorHealth{Status: "healthy", CanProvision: true})
	// Plain slog is observed too.
	l.With("category", "requests").Debug("request", "path", "/ace/status", "duration", 6*time.Second)
	require.NoError(t, l.Flush())

	var types []string
	for _, m := range readFile(t, l, "stress") {
		types = append(types, m["event_type"].(string))
		assert.Equal(t, "stress", m["category"])
	}
	assert.Equal(t, []string{stress.SlowRequest, stress.SlowEngineSelection, stress.ProvisioningCircuitBreaker,
		stress.OrchestratorDegraded, stress.OrchestratorRecovered, stress.SlowRequest}, types)
	events := readFile(t, l, "stress")
	assert.Equal(t, "slow", events[0]["ace_id"])
	assert.Equal(t, 7500.0, events[0]["duration_ms"])
	assert.Equal(t, "/ace/status", events[5]["path"])
	assert.Equal(t, "vpn_disconnected", events[3]["blocked_reason_code"])

	out := console.String()
	for _, typ := range []string{"slow_request", "slow_engine_selection", "provisioning_circuit_breaker", "orchestrator_degraded"} {
		assert.Contains(t, out, typ)
	}
	assert.Contains(t, out, "ERR provisioning_circuit_breaker")
	assert.Contains(t, out, "WRN slow_request")
	assert.Contains(t, out, "INF orchestrator_recovered")
	assert.Len(t, readFile(t, l, "requests"), 3)
}

func TestStressCanBeTurnedOff(t *testing.T) {
	l, console := newDebugLogger(t, Config{DisableStress: true})
	l.LogRequest(context.Background(), "GET", "/x", time.Minute, 200, "")
	require.NoError(t, l.Flush())
	assert.NoFileExists(t, l.Path("stress"))
	assert.False(t, strings.Contains(console.String(), "slow_request"))
}

func TestRecordsDroppedIsReported(t *testing.T) {
	l, _ := newDebugLogger(t, Config{QueueBytes: 4096, MaxLineBytes: 1024, FlushInterval: time.Hour})
	requests := l.With("category", "requests")
	// Far more than the queue holds, faster than the writer wakes: some are
	// dropped, and the next record observed reports it.
	for i := range 20000 {
		requests.Debug("request", "i", i)
	}
	require.NoError(t, l.Flush())
	requests.Debug("after the burst")
	require.NoError(t, l.Flush())
	st := l.Stats()
	require.Positive(t, st.Categories["requests"].Dropped)
	var reported uint64
	for _, m := range readFile(t, l, "stress") {
		if m["event_type"] == stress.RecordsDropped {
			reported += uint64(m["count"].(float64))
		}
	}
	assert.Positive(t, reported)
	assert.LessOrEqual(t, reported, st.Dropped)
}
