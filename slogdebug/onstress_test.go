package slogdebug

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/stress"
)

// hookEvents collects what Config.OnStress is called with.
type hookEvents struct {
	mu     sync.Mutex
	events []stress.Event
}

func (h *hookEvents) add(e stress.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

func (h *hookEvents) all() []stress.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]stress.Event(nil), h.events...)
}

func attrOf(e stress.Event, key string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value.String(), true
		}
	}
	return "", false
}

// TestOnStressGetsEveryEventOfTheStressFile: the hook is called, in order,
// with every event the stress file gets (windowed ones too, not
// stress_suppressed), redacted as the files are, with the request's ID.
func TestOnStressGetsEveryEventOfTheStressFile(t *testing.T) {
	var got hookEvents
	l, _ := newDebugLogger(t, Config{OnStress: got.add})
	ctx := reqid.With(context.Background(), reqid.IDs{RequestID: "req-hook-1"})
	for range 11 { // eleven slow starts: the 11th fires high_slow_request_rate too
		l.LogRequest(ctx, "GET", "/ace/getstream", time.Hour, 200, "abc", slog.Duration("ttfb", 6*time.Second))
	}
	l.LogProvisioning(context.Background(), "provision_attempt_failed", time.Second, false,
		errors.New("provisioning blocked: circuit breaker is open (token=s3cr3t)"), 1)
	require.NoError(t, l.Flush())

	var want []string
	for _, m := range readFile(t, l, "stress") {
		want = append(want, m["event_type"].(string))
	}
	events := got.all()
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	assert.Equal(t, want, types, "the hook's events are the stress file's")
	assert.Contains(t, types, stressevent.HighSlowRequestRate)
	require.NotEmpty(t, events)
	id, ok := attrOf(events[0], "request_id")
	assert.True(t, ok)
	assert.Equal(t, "req-hook-1", id)
	assert.Equal(t, slog.LevelWarn, events[0].Level)
	last := events[len(events)-1]
	require.Equal(t, stressevent.ProvisioningCircuitBreaker, last.Type)
	msg, _ := attrOf(last, "error")
	assert.NotContains(t, msg, "s3cr3t", "redacted as the files are")
	_, ok = attrOf(last, "request_id")
	assert.False(t, ok, "no request, no request_id")

	require.NoError(t, l.Close())
	for _, e := range got.all() {
		assert.NotEqual(t, stressevent.StressSuppressed, e.Type)
	}
}

// TestOnStressPanicIsRecoveredAndCounted: a hook that panics costs that
// call only: the next event is delivered, the panic counted.
func TestOnStressPanicIsRecoveredAndCounted(t *testing.T) {
	var got hookEvents
	first := true
	l, _ := newDebugLogger(t, Config{StressCooldown: -1, OnStress: func(e stress.Event) {
		if first {
			first = false
			panic("alerting is down")
		}
		got.add(e)
	}})
	ctx := context.Background()
	l.LogRequest(ctx, "GET", "/a", 6*time.Second, 200, "a")
	l.LogRequest(ctx, "GET", "/b", 6*time.Second, 200, "b")
	require.NoError(t, l.Flush())
	require.Len(t, got.all(), 1)
	path, _ := attrOf(got.all()[0], "path")
	assert.Equal(t, "/b", path)
	assert.Equal(t, uint64(1), l.Stats().Panics)
}

// TestOnStressNeverHoldsUpTheCaller: a hook that blocks holds up no log
// call: the events past the queue's 256 are dropped for it and counted in
// session_end; Close waits for it at most a second, then goes on.
func TestOnStressNeverHoldsUpTheCaller(t *testing.T) {
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	l, _ := newDebugLogger(t, Config{StressCooldown: -1, SlowRequestRate: "65535/1m", OnStress: func(stress.Event) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}})
	ctx := context.Background()
	l.LogRequest(ctx, "GET", "/first", 6*time.Second, 200, "x")
	<-entered // the hook's goroutine holds the first event; the queue is empty
	const n = 300
	for range n {
		l.LogRequest(ctx, "GET", "/ace/getstream", 6*time.Second, 200, "x")
	}
	dropped := l.hook.dropped.Load()
	assert.Equal(t, uint64(n-asyncConsoleLines), dropped, "256 wait, the rest are dropped")
	close(release)
	require.NoError(t, l.Close())
	var end map[string]any
	for _, lines := range sessionLines(t, l) {
		for _, m := range lines {
			if m["msg"] == "session_end" {
				end = m
			}
		}
	}
	require.NotNil(t, end)
	assert.Equal(t, float64(dropped), end["on_stress_dropped"])
}

// TestOnStressFollowsTheFlightRecorder: with debug mode off and the flight
// recorder on, stress detection runs and the hook hears it.
func TestOnStressFollowsTheFlightRecorder(t *testing.T) {
	var got hookEvents
	l, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Minute, OnStress: got.add}, &strings.Builder{})
	require.NoError(t, err)
	defer l.Close()
	l.LogOrchestratorHealth(context.Background(), acestream.OrchestratorHealth{Status: "degraded", BlockedReason: "VPN disconnected"})
	require.NoError(t, l.Flush())
	require.Len(t, got.all(), 1)
	assert.Equal(t, stressevent.OrchestratorDegraded, got.all()[0].Type)
}
