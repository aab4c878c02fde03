package slogdebug

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/internal/stressevent"
)

// TestStressDetectionEndToEnd turns debug mode on and checks that the
// default rules write their events to the stress file and, at Warn and
// Error, to the console, while the records that caused them stay in their
// own files.
func TestStressDetectionEndToEnd(t *testing.T) {
	readsTintConsole(t)
	l, console := newDebugLogger(t, Config{StressCooldown: -1})
	ctx := context.Background()

	l.LogRequest(ctx, "GET", "/ace/getstream", 5*time.Second, 200, "edge")         // exactly 5s: not slow
	l.LogRequest(ctx, "GET", "/ace/getstream", 7500*time.Millisecond, 200, "slow") // slow
	l.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Host: "127.0.0.1", Port: 6878, ContainerID: "c1", Duration: 3 * time.Second})
	l.LogProvisioning(ctx, "provision_attempt_failed", time.Second, false, errors.New("provisioning blocked: circuit breaker is open"), 1)
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "healthy", CanProvision: true})
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "degraded", BlockedReason: "VPN disconnected", BlockedReasonCode: "vpn_disconnected"})
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "healthy", CanProvision: true})
	// Plain slog is observed too.
	l.With("category", "requests").Debug("request", "path", "/ace/status", "duration", 6*time.Second)
	require.NoError(t, l.Flush())

	var types []string
	for _, m := range readFile(t, l, "stress") {
		types = append(types, m["event_type"].(string))
		assert.Equal(t, "stress", m["category"])
	}
	assert.Equal(t, []string{stressevent.SlowRequest, stressevent.SlowEngineSelection, stressevent.ProvisioningCircuitBreaker,
		stressevent.OrchestratorDegraded, stressevent.OrchestratorRecovered, stressevent.SlowRequest}, types)
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

// TestABurstIsNotDropped: a burst far larger than the queue, faster than
// the writer wakes, is written whole: a caller that finds the queue full
// waits for the writer instead of dropping (records_dropped, and its
// report in the stress file, are for a disk that stops taking lines:
// handler's and stress's tests).
func TestABurstIsNotDropped(t *testing.T) {
	l, _ := newDebugLogger(t, Config{QueueBytes: 4096, FlushInterval: time.Hour})
	requests := l.With("category", "requests")
	for i := range 20000 {
		requests.Debug("request", "i", i)
	}
	require.NoError(t, l.Flush())
	st := l.Stats()
	assert.Zero(t, st.Dropped)
	lines := readFile(t, l, "requests")
	require.Len(t, lines, 20000)
	for i, m := range lines {
		require.Equal(t, float64(i), m["i"])
	}
	assert.NoFileExists(t, l.Path("stress"))
}

// logStressAt logs a record of a category at a chosen time through the
// Logger's handler, as slog would: the stress detector's windows and
// cooldowns run on the records' times, so the test sets the clock.
func logStressAt(t *testing.T, l *Logger, at time.Time, category, msg string, attrs ...slog.Attr) {
	t.Helper()
	r := slog.NewRecord(at, slog.LevelDebug, msg, 0)
	r.AddAttrs(attrs...)
	require.NoError(t, l.With("category", category).Handler().Handle(context.Background(), r))
}

// eventsOf returns the stress lines of an event type.
func eventsOf(lines []map[string]any, eventType string) []map[string]any {
	var out []map[string]any
	for _, m := range lines {
		if m["event_type"] == eventType {
			out = append(out, m)
		}
	}
	return out
}

// consoleLines counts the console lines that start with level and msg, as
// tint writes them ("WRN slow_request").
func consoleLines(console, levelAndMsg string) int {
	n := 0
	for _, line := range strings.Split(console, "\n") {
		if strings.Contains(line, " "+levelAndMsg+" ") || strings.HasSuffix(line, " "+levelAndMsg) {
			n++
		}
	}
	return n
}

// sessionEnd returns the session file's last line, which must be
// session_end.
func sessionEnd(t *testing.T, l *Logger) map[string]any {
	t.Helper()
	lines := readFile(t, l, "session")
	require.NotEmpty(t, lines)
	end := lines[len(lines)-1]
	require.Equal(t, "session_end", end["msg"])
	return end
}

// TestEverySlowRequestIsInTheStressFile: eight slow requests within one
// cooldown are eight lines in the stress file; the cooldown quiets the
// console only, and what it kept from the console is written at Close and
// counted in session_end.
func TestEverySlowRequestIsInTheStressFile(t *testing.T) {
	readsTintConsole(t)
	l, console := newDebugLogger(t, Config{StressCooldown: time.Hour})
	ctx := context.Background()
	for i := range 8 {
		l.LogRequest(ctx, "GET", fmt.Sprintf("/ace/getstream/%d", i), 6*time.Second+time.Duration(i)*time.Millisecond, 200, fmt.Sprintf("ace%d", i))
	}
	require.NoError(t, l.Close())

	lines := readFile(t, l, "stress")
	slow := eventsOf(lines, stressevent.SlowRequest)
	require.Len(t, slow, 8, "every slow request is a line")
	for i, m := range slow {
		assert.Equal(t, "stress", m["category"])
		assert.Equal(t, "WARN", m["level"])
		assert.Equal(t, "warning", m["severity"])
		assert.Equal(t, fmt.Sprintf("/ace/getstream/%d", i), m["path"])
		assert.Equal(t, fmt.Sprintf("ace%d", i), m["ace_id"])
		assert.Equal(t, 6000.0+float64(i), m["duration_ms"])
		assert.NotContains(t, m, "suppressed")
		assert.NotContains(t, m, "console_suppressed", "no earlier one was kept from the console")
	}
	assert.Equal(t, 1, consoleLines(console.String(), "WRN slow_request"), "the cooldown quiets the console:\n%s", console)

	last := lines[len(lines)-1]
	require.Len(t, lines, 9, "the eight events and Close's summary")
	assert.Equal(t, "stress_suppressed", last["event_type"])
	assert.Equal(t, "INFO", last["level"])
	assert.Equal(t, "info", last["severity"])
	assert.Equal(t, map[string]any{"slow_request": 7.0}, last["console_suppressed"])
	assert.NotContains(t, last, "suppressed", "nothing was kept from the file")
	assert.Equal(t, "Held back by the cooldown since the last event of their type, "+
		"kept from the console (each is a line of its own in the files): 7 slow_request", last["description"])
	assert.Equal(t, 1, consoleLines(console.String(), "INF stress_suppressed"), "the console is told what it did not see")

	end := sessionEnd(t, l)
	assert.Equal(t, map[string]any{
		"slow_request": map[string]any{"events": 8.0, "suppressed": 0.0, "console_suppressed": 7.0},
	}, end["stress_events"])
}

// TestEveryCircuitBreakerFailureIsInTheStressFile: nine failures with the
// circuit breaker open are nine lines; the failure rate, a windowed event,
// is written once per cooldown and what it held back is counted.
func TestEveryCircuitBreakerFailureIsInTheStressFile(t *testing.T) {
	readsTintConsole(t)
	l, console := newDebugLogger(t, Config{StressCooldown: time.Hour})
	ctx := context.Background()
	for i := range 9 {
		l.LogProvisioning(ctx, "provision_attempt_failed", time.Second, false, errors.New("provisioning blocked: circuit breaker is open"), i)
	}
	require.NoError(t, l.Close())

	lines := readFile(t, l, "stress")
	breaker := eventsOf(lines, stressevent.ProvisioningCircuitBreaker)
	require.Len(t, breaker, 9, "every failure is a line")
	for i, m := range breaker {
		assert.Equal(t, "ERROR", m["level"])
		assert.Equal(t, "critical", m["severity"])
		assert.Equal(t, float64(i), m["retry_count"])
		assert.Equal(t, "provisioning blocked: circuit breaker is open", m["error"])
	}
	rate := eventsOf(lines, stressevent.HighProvisioningFailureRate)
	require.Len(t, rate, 1, "more than 5 failures: the rate fires at the 6th, and its cooldown holds the 7th to 9th")
	assert.Equal(t, 6.0, rate[0]["count"])
	assert.Equal(t, 1, consoleLines(console.String(), "ERR provisioning_circuit_breaker"))
	assert.Equal(t, 1, consoleLines(console.String(), "ERR high_provisioning_failure_rate"))

	last := lines[len(lines)-1]
	assert.Equal(t, "stress_suppressed", last["event_type"])
	assert.Equal(t, map[string]any{"provisioning_circuit_breaker": 8.0}, last["console_suppressed"])
	assert.Equal(t, map[string]any{"high_provisioning_failure_rate": 3.0}, last["suppressed"])

	end := sessionEnd(t, l)
	assert.Equal(t, map[string]any{
		"provisioning_circuit_breaker":   map[string]any{"events": 9.0, "suppressed": 0.0, "console_suppressed": 8.0},
		"high_provisioning_failure_rate": map[string]any{"events": 4.0, "suppressed": 3.0, "console_suppressed": 0.0},
	}, end["stress_events"])
}

// TestWindowedRateRespectsTheCooldown drives the stress clock along with
// the records' times: a windowed rate is written once per cooldown, its next line says
// how many were held back, Close writes the rest, and the lines' counts
// add up to session_end's.
func TestWindowedRateRespectsTheCooldown(t *testing.T) {
	t0 := time.Now().Truncate(time.Second)
	var clock atomic.Int64 // the stress clock, moved with the records' times
	clock.Store(t0.UnixNano())
	l, _ := newDebugLogger(t, Config{StressCooldown: 10 * time.Second, stressClock: func() time.Time { return time.Unix(0, clock.Load()) }})
	fail := func(at time.Duration) {
		clock.Store(t0.Add(at).UnixNano())
		logStressAt(t, l, t0.Add(at), "provisioning", "provisioning",
			slog.String("operation", "provision_attempt_failed"), slog.Bool("success", false), slog.String("error", "no capacity"))
	}
	for i := range 6 {
		fail(time.Duration(i) * time.Second) // 0s..5s: the 6th fires
	}
	fail(6 * time.Second)  // held back
	fail(7 * time.Second)  // held back
	fail(15 * time.Second) // the cooldown is over: 9 in the minute
	fail(16 * time.Second) // held back, reported at Close
	require.NoError(t, l.Close())

	lines := readFile(t, l, "stress")
	rate := eventsOf(lines, stressevent.HighProvisioningFailureRate)
	require.Len(t, rate, 2)
	assert.Equal(t, 6.0, rate[0]["count"])
	assert.NotContains(t, rate[0], "suppressed")
	assert.Equal(t, 9.0, rate[1]["count"])
	assert.Equal(t, 2.0, rate[1]["suppressed"], "the two the cooldown held back")
	assert.NotContains(t, rate[1], "console_suppressed")

	last := lines[len(lines)-1]
	require.Equal(t, "stress_suppressed", last["event_type"])
	assert.Equal(t, map[string]any{"high_provisioning_failure_rate": 1.0}, last["suppressed"])
	assert.NotContains(t, last, "console_suppressed")
	assert.Len(t, lines, 3)

	end := sessionEnd(t, l)
	assert.Equal(t, map[string]any{
		"high_provisioning_failure_rate": map[string]any{"events": 5.0, "suppressed": 3.0, "console_suppressed": 0.0},
	}, end["stress_events"])
}

// TestNothingSuppressedNoSummary: with nothing held back, Close writes no
// summary line, and session_end still has the counts.
func TestNothingSuppressedNoSummary(t *testing.T) {
	l, _ := newDebugLogger(t, Config{StressCooldown: time.Hour})
	l.LogRequest(context.Background(), "GET", "/x", 6*time.Second, 200, "")
	require.NoError(t, l.Close())
	lines := readFile(t, l, "stress")
	require.Len(t, lines, 1)
	assert.Equal(t, stressevent.SlowRequest, lines[0]["event_type"])
	assert.Equal(t, map[string]any{
		"slow_request": map[string]any{"events": 1.0, "suppressed": 0.0, "console_suppressed": 0.0},
	}, sessionEnd(t, l)["stress_events"])
}

// TestSetDebugOffWritesTheStressSummary: switching debug mode off closes
// the stress detector before the files: its summary is in the stress file
// and its counts in the debug_disabled line.
func TestSetDebugOffWritesTheStressSummary(t *testing.T) {
	l, _ := newDebugLogger(t, Config{StressCooldown: time.Hour})
	for range 3 {
		l.LogRequest(context.Background(), "GET", "/x", 6*time.Second, 200, "")
	}
	require.NoError(t, l.SetDebug(false))
	lines := readFile(t, l, "stress")
	require.Len(t, lines, 4)
	assert.Len(t, eventsOf(lines, stressevent.SlowRequest), 3)
	assert.Equal(t, map[string]any{"slow_request": 2.0}, lines[3]["console_suppressed"])
	session := readFile(t, l, "session")
	last := session[len(session)-1]
	require.Equal(t, "debug_disabled", last["msg"])
	assert.Equal(t, map[string]any{
		"slow_request": map[string]any{"events": 3.0, "suppressed": 0.0, "console_suppressed": 2.0},
	}, last["stress_events"])
}

// TestSessionEndCountsTheStressEventsOfTheWholeSession: debug mode
// switched off and on again runs a new detector; session_end counts the
// events of all of them, as it counts the records, whether the session ends
// with debug mode on or off.
func TestSessionEndCountsTheStressEventsOfTheWholeSession(t *testing.T) {
	for _, endOn := range []bool{true, false} {
		l, _ := newDebugLogger(t, Config{StressCooldown: time.Hour})
		ctx := context.Background()
		l.LogRequest(ctx, "GET", "/x", 6*time.Second, 200, "")
		l.LogRequest(ctx, "GET", "/x", 6*time.Second, 200, "")
		require.NoError(t, l.SetDebug(false))
		require.NoError(t, l.SetDebug(true))
		l.LogRequest(ctx, "GET", "/x", 7*time.Second, 200, "")
		if !endOn {
			require.NoError(t, l.SetDebug(false))
		}
		require.NoError(t, l.Close())
		assert.Len(t, eventsOf(readFile(t, l, "stress"), stressevent.SlowRequest), 3)
		end := sessionEnd(t, l)
		assert.Equal(t, 3.0, end["categories"].(map[string]any)["requests"].(map[string]any)["written"])
		assert.Equal(t, map[string]any{
			// 1 shown and 1 held back from the console by the first
			// detector, 1 shown by the second.
			"slow_request": map[string]any{"events": 3.0, "suppressed": 0.0, "console_suppressed": 1.0},
		}, end["stress_events"], "debug mode on at the end: %v", endOn)
	}
}

// TestFlightRecorderWritesEveryStressEvent: with debug mode off and the
// flight recorder on, every per-record event still reaches the stress file
// (each writes out what was recorded before it); the console is quieted.
func TestFlightRecorderWritesEveryStressEvent(t *testing.T) {
	readsTintConsole(t)
	var console bytes.Buffer
	l, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Minute, StressCooldown: time.Hour}, &console)
	require.NoError(t, err)
	defer l.Close()
	ctx := context.Background()
	for i := range 3 {
		l.LogRequest(ctx, "GET", fmt.Sprintf("/slow/%d", i), 7*time.Second, 200, "")
	}
	assert.False(t, l.DebugMode())
	require.NoError(t, l.Flush())
	slow := eventsOf(readFile(t, l, "stress"), stressevent.SlowRequest)
	require.Len(t, slow, 3)
	for i, m := range slow {
		assert.Equal(t, fmt.Sprintf("/slow/%d", i), m["path"])
	}
	reqs := readFile(t, l, "requests")
	require.Len(t, reqs, 3, "each dump wrote the request that fired it")
	assert.Equal(t, 1, consoleLines(console.String(), "WRN slow_request"))
}

// TestStressReadsCategoriesAsTheFilesName: a record of category "Requests"
// is written to the requests file and watched as a request.
func TestStressReadsCategoriesAsTheFilesName(t *testing.T) {
	l, _ := newDebugLogger(t, Config{StressCooldown: -1})
	l.Info("request", "category", "Requests", "duration", time.Minute, "path", "/x")
	require.NoError(t, l.Flush())
	assert.Len(t, readFile(t, l, "requests"), 1)
	assert.Len(t, eventsOf(readFile(t, l, "stress"), "slow_request"), 1)
}
