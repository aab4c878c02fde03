package slogdebug

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/stress"
)

// newDebugLogger returns a Logger with debug mode on in a temporary
// directory and its console output.
func newDebugLogger(t *testing.T, cfg Config) (*Logger, *bytes.Buffer) {
	t.Helper()
	cfg.Enabled = true
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	var console bytes.Buffer
	l, err := New(cfg, &console)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	require.True(t, l.DebugMode(), "debug mode did not start: %s", console.String())
	return l, &console
}

// readFile decodes every line of a category's file.
func readFile(t *testing.T, l *Logger, category string) []map[string]any {
	t.Helper()
	f, err := os.Open(l.Path(category))
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "%s", sc.Bytes())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

// fields drops the fields every line has, leaving the helper's own.
func fields(m map[string]any) map[string]any {
	for _, k := range []string{"session_id", "timestamp", "elapsed_seconds", "level", "category", "msg"} {
		delete(m, k)
	}
	return m
}

func TestTypedHelpersWriteThePortsFields(t *testing.T) {
	l, _ := newDebugLogger(t, Config{DisableStress: true}) // only the helpers' own lines
	ctx := context.Background()
	boom := errors.New("no engines available")

	l.LogRequest(ctx, "GET", "/ace/getstream", 5210*time.Millisecond, 200, "abc123")
	l.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Host: "10.0.0.5", Port: 6878, ContainerID: "3f2a9c1be0d4", Duration: 40 * time.Millisecond})
	l.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Duration: 2 * time.Second, Err: boom}, slog.Int("attempt", 2))
	l.LogProvisioning(ctx, "provision_attempt_failed", 1500*time.Millisecond, false, boom, 2)
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "degraded", CanProvision: false, BlockedReason: "Circuit breaker is open",
		BlockedReasonCode: "circuit_breaker", RecoveryETASeconds: 60, VPNConnected: true,
		CapacityTotal: acestream.Known(10), CapacityUsed: acestream.Known(3), CapacityAvailable: acestream.Known(7), EngineCount: acestream.Known(3), StreamCount: acestream.Known(2)})
	l.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: "abc|sess1", EngineID: "3f2a9c1be0d4", Duration: 12 * time.Millisecond}, slog.String("engine_host", "10.0.0.5"))
	l.LogStressEvent(ctx, stress.Event{Type: "slow_request", Level: slog.LevelWarn, Description: "Request took 5.21s"}, slog.String("path", "/ace/getstream"))
	l.LogError(ctx, "orchestrator_client", "report_stream_started", boom, slog.String("stream_id", "abc|sess1"))
	l.LogDisconnect(ctx, acestream.Disconnect{StreamID: "abc|sess1", AceID: "abc", Reason: "client_disconnected", Err: io.ErrClosedPipe, BytesCopied: 1 << 20, Duration: 90 * time.Second}, slog.String("side", "client"))
	require.NoError(t, l.Flush())

	for _, tc := range []struct {
		category string
		want     []map[string]any
	}{
		{"requests", []map[string]any{{"method": "GET", "path": "/ace/getstream", "duration_ms": 5210.0, "status_code": 200.0, "ace_id": "abc123"}}},
		{"engine_selection", []map[string]any{
			{"operation": "select_best_engine", "selected_host": "10.0.0.5", "selected_port": 6878.0, "container_id": "3f2a9c1be0d4", "duration_ms": 40.0, "error": nil},
			{"operation": "select_best_engine", "selected_host": "", "selected_port": 0.0, "container_id": "", "duration_ms": 2000.0, "error": "no engines available", "attempt": 2.0},
		}},
		{"provisioning", []map[string]any{{"operation": "provision_attempt_failed", "duration_ms": 1500.0, "success": false, "error": "no engines available", "retry_count": 2.0}}},
		{"orchestrator_health", []map[string]any{{"status": "degraded", "can_provision": false, "blocked_reason": "Circuit breaker is open",
			"blocked_reason_code": "circuit_breaker", "recovery_eta_seconds": 60.0, "vpn_connected": true,
			"capacity_total": 10.0, "capacity_used": 3.0, "capacity_available": 7.0, "engine_count": 3.0, "stream_count": 2.0}}},
		{"streams", []map[string]any{{"event_type": "stream_started", "stream_id": "abc|sess1", "engine_id": "3f2a9c1be0d4", "duration_ms": 12.0, "engine_host": "10.0.0.5"}}},
		{"stress", []map[string]any{{"event_type": "slow_request", "severity": "warning", "description": "Request took 5.21s", "path": "/ace/getstream"}}},
		{"errors", []map[string]any{{"component": "orchestrator_client", "operation": "report_stream_started", "error_type": "*errors.errorString", "error_message": "no engines available", "stream_id": "abc|sess1"}}},
		{"disconnects", []map[string]any{{"stream_id": "abc|sess1", "ace_id": "abc", "reason": "client_disconnected", "error": "io: read/write on closed pipe", "bytes_copied": float64(1 << 20), "duration_ms": 90000.0, "side": "client"}}},
	} {
		lines := readFile(t, l, tc.category)
		require.Len(t, lines, len(tc.want), tc.category)
		for i, m := range lines {
			assert.Equal(t, tc.category, m["category"])
			assert.Equal(t, l.SessionID(), m["session_id"])
			assert.Equal(t, tc.want[i], fields(m), tc.category)
		}
	}
	assert.Equal(t, "WARN", readFile(t, l, "stress")[0]["level"])
	assert.Equal(t, "DEBUG", readFile(t, l, "requests")[0]["level"])
}

// TestAnUnreachableReadingWritesNoFacts: a program's own client that got
// no answer writes status unreachable with its cause; can_provision,
// vpn_connected and blocked_reason are not written as if the orchestrator
// had said them (found rewiring the acexy fork).
func TestAnUnreachableReadingWritesNoFacts(t *testing.T) {
	l, _ := newDebugLogger(t, Config{StressCooldown: -1})
	ctx := context.Background()
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "unreachable"},
		slog.String("error_class", "connection_refused"), slog.String("error", "connect: connection refused"))
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "reachable"})
	require.NoError(t, l.Flush())
	lines := readFile(t, l, "orchestrator_health")
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"status": "unreachable", "error_class": "connection_refused", "error": "connect: connection refused"}, fields(lines[0]))
	assert.Equal(t, map[string]any{"status": "reachable"}, fields(lines[1]))
	events := readFile(t, l, "stress")
	require.Len(t, events, 2)
	assert.Equal(t, "Orchestrator is unreachable: connection_refused", events[0]["description"])
	assert.Equal(t, stressevent.OrchestratorRecovered, events[1]["event_type"])
}

// TestOrchestratorHealthLeavesOutWhatItDoesNotKnow: the previous logger's
// flat shape, and no 0 for a value the reading did not have (a stress
// event copied from it leaves it out too).
func TestOrchestratorHealthLeavesOutWhatItDoesNotKnow(t *testing.T) {
	l, _ := newDebugLogger(t, Config{StressCooldown: -1})
	ctx := context.Background()
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "healthy", CanProvision: true, VPNConnected: true})
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "degraded", BlockedReason: "VPN disconnected", BlockedReasonCode: "vpn_disconnected"})
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "healthy", CanProvision: true, VPNConnected: true,
		CapacityTotal: acestream.Known(10), CapacityUsed: acestream.Known(0), CapacityAvailable: acestream.Known(10), EngineCount: acestream.Known(0)})
	require.NoError(t, l.Flush())

	lines := readFile(t, l, "orchestrator_health")
	require.Len(t, lines, 3)
	assert.Equal(t, map[string]any{"status": "healthy", "can_provision": true, "blocked_reason": "", "blocked_reason_code": "",
		"vpn_connected": true}, fields(lines[0]), "nothing unknown is written")
	assert.Equal(t, map[string]any{"status": "healthy", "can_provision": true, "blocked_reason": "", "blocked_reason_code": "",
		"vpn_connected": true, "capacity_total": 10.0, "capacity_used": 0.0, "capacity_available": 10.0, "engine_count": 0.0},
		fields(lines[2]), "a known 0 is written")

	events := readFile(t, l, "stress")
	require.Len(t, events, 2)
	assert.Equal(t, stressevent.OrchestratorDegraded, events[0]["event_type"])
	for _, k := range []string{"engine_count", "stream_count", "capacity_total", "capacity_used", "capacity_available", "recovery_eta_seconds"} {
		assert.NotContains(t, events[0], k, "orchestrator_degraded copies nothing its reading did not know")
	}
	assert.Equal(t, stressevent.OrchestratorRecovered, events[1]["event_type"])
	assert.Equal(t, 10.0, events[1]["capacity_total"], "orchestrator_recovered copies what its reading knew")
	assert.Equal(t, 0.0, events[1]["engine_count"])
	assert.NotContains(t, events[1], "stream_count")
}

func TestPlainSlogAndHelpersShareFiles(t *testing.T) {
	l, _ := newDebugLogger(t, Config{})
	l.LogProvisioning(context.Background(), "provision_success", time.Second, true, nil, 0)
	l.With("category", category.Provisioning).Debug("custom", "operation", "warmup")
	require.NoError(t, l.Flush())
	lines := readFile(t, l, "provisioning")
	require.Len(t, lines, 2)
	assert.Equal(t, "provision_success", lines[0]["operation"])
	assert.Equal(t, "warmup", lines[1]["operation"])
}

func TestConsoleShowsInfoAndUpOnly(t *testing.T) {
	l, console := newDebugLogger(t, Config{})
	l.LogRequest(context.Background(), "GET", "/x", time.Millisecond, 200, "id")
	l.Info("proxy started", "addr", "127.0.0.1:8080")
	l.LogStressEvent(context.Background(), stress.Event{Type: "provisioning_circuit_breaker", Level: slog.LevelError, Description: "blocked"})
	require.NoError(t, l.Flush())

	out := console.String()
	assert.Contains(t, out, "proxy started")
	assert.Contains(t, out, "provisioning_circuit_breaker")
	assert.NotContains(t, out, "/x", "debug-mode records stay off the console")
	assert.NotContains(t, out, "\x1b[", "no colour when the console is not a terminal")
	assert.Len(t, readFile(t, l, "requests"), 1)
	assert.Len(t, readFile(t, l, "stress"), 1)
}

func TestCustomConsoleHandler(t *testing.T) {
	var out bytes.Buffer
	l, _ := newDebugLogger(t, Config{Console: slog.NewJSONHandler(&out, nil)})
	out.Reset() // "debug mode on"
	l.With("category", "provisioning").Info("provisioned", "container_id", "c1")
	require.NoError(t, l.Flush())
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, "provisioned", m["msg"])
	assert.Equal(t, "provisioning", m["category"])
	assert.Len(t, readFile(t, l, "provisioning"), 1)
}

func TestStartUpSaysDebugModeIsOn(t *testing.T) {
	readsTintConsole(t)
	l, console := newDebugLogger(t, Config{})
	assert.Equal(t, fmt.Sprintf("INF debug mode on session=%s dir=%s\n", l.SessionID(), l.Dir()), console.String()[len("15:04:05.000 "):],
		"one line, with the session and the directory")

	var quiet bytes.Buffer
	off, err := New(Config{Dir: t.TempDir()}, &quiet)
	require.NoError(t, err)
	require.NoError(t, off.Close())
	assert.Empty(t, quiet.String(), "nothing with debug mode off")
}

func TestDebugModeOffOpensNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	var console bytes.Buffer
	l, err := New(Config{Dir: dir}, &console)
	require.NoError(t, err)
	assert.False(t, l.DebugMode())
	l.LogRequest(context.Background(), "GET", "/x", time.Millisecond, 200, "id")
	l.With("category", "requests").Debug("nothing")
	l.Info("console still works")
	require.NoError(t, l.Flush())
	require.NoError(t, l.Close())
	assert.NoDirExists(t, dir)
	assert.Equal(t, "", l.SessionID())
	assert.Contains(t, console.String(), "console still works")
	// goleak in TestMain checks that no writer goroutine was started.
}

func TestSessionFileHasEffectiveConfig(t *testing.T) {
	readsTintConsole(t)
	l, _ := newDebugLogger(t, Config{FlushInterval: 50 * time.Millisecond, ConsoleLevel: slog.LevelWarn})
	require.NoError(t, l.Close())
	lines := readFile(t, l, "session")
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"enabled": true, "console": "tint", "console_level": "WARN", "no_color": true, "console_categories": false, "stress": true, "flight_recorder_ms": 0.0,
		"orchestrator_calls": false, "stress_slow": map[string]any{"requests_ms": 5000.0, "engine_selection_ms": 2000.0}, "stress_stall_ms": 5000.0}, lines[0]["config"], "no colour: the console is no terminal")
	opts := lines[0]["options"].(map[string]any)
	assert.Equal(t, 50.0, opts["flush_interval_ms"])
	assert.Equal(t, float64(8<<20), opts["queue_bytes"])
	assert.Equal(t, "session_end", lines[1]["event"])
}

// TestNewReportsAnUnusableDirectory: debug mode that cannot start is said
// on the console, and stays off; Strict makes it New's error.
func TestNewReportsAnUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	dir := filepath.Join(file, "sub")
	_, err := New(Config{Enabled: true, Dir: dir, Strict: true}, io.Discard)
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("slogdebug: debug mode: Config.Dir %q: log directory %q: %s is not a directory: want a directory this process can create files in", dir, dir, file), err.Error())

	var console bytes.Buffer
	l, err := New(Config{Enabled: true, Dir: dir, Console: slog.NewJSONHandler(&console, nil)}, io.Discard)
	require.NoError(t, err)
	assert.False(t, l.DebugMode())
	lines := jsonConsoleLines(t, &console)
	require.Len(t, lines, 1)
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, "Dir", lines[0]["variable"])
	assert.Contains(t, lines[0]["msg"], "is not a directory: want a directory this process can create files in; debug mode stays off (SetDebug(true) tries again)")
	assert.ErrorContains(t, l.SetDebug(true), "is not a directory", "turning it on looks again")
	require.NoError(t, l.Close())
}

// TestHelpersAllocateNothing: a typed helper builds its record on the
// stack, its event struct included. The only allocation left is slog's
// own: a slog.Record holds five attributes inline, and the sixth and later
// ones of a helper with more fields (LogEngineSelection, LogDisconnect,
// LogOrchestratorHealth) go into one slice that AddAttrs allocates.
func TestHelpersAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	ctx := context.Background()
	quiet := slog.LevelError + 1 // the console takes nothing: only the helpers' own cost is measured
	off, err := New(Config{ConsoleLevel: quiet}, io.Discard)
	require.NoError(t, err)
	// A queue far larger than what is measured, and an hour between
	// flushes: the writer goroutine sleeps, and its allocations (counted by
	// AllocsPerRun too) do not blur the callers'.
	on, _ := newDebugLogger(t, Config{QueueBytes: 64 << 20, FlushInterval: time.Hour, ConsoleLevel: quiet})
	derived := on.With("engine_host", "10.0.0.5")
	derived.LogRequest(ctx, "GET", "/ace/getstream", time.Second, 200, "abc") // binds its handlers
	for _, tc := range []struct {
		helper string
		fields int // the record's attributes
		call   func(l *Logger)
	}{
		{"LogRequest", 5, func(l *Logger) { l.LogRequest(ctx, "GET", "/ace/getstream", time.Second, 200, "abc") }},
		{"LogRequest", 7, func(l *Logger) { // as integration.Middleware logs it
			l.LogRequest(ctx, "GET", "/ace/getstream", time.Second, 200, "abc", slog.Int64("bytes", 1<<20), slog.String("stream_id", "s1"))
		}},
		{"LogProvisioning", 5, func(l *Logger) { l.LogProvisioning(ctx, "provision_success", time.Second, true, nil, 0) }},
		{"LogStreamEvent", 4, func(l *Logger) {
			l.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: "s1", EngineID: "c1", Duration: time.Millisecond})
		}},
		{"LogStressEvent", 3, func(l *Logger) {
			l.LogStressEvent(ctx, stress.Event{Type: "mine", Level: slog.LevelWarn, Description: "d"})
		}},
		{"LogEngineSelection", 6, func(l *Logger) {
			l.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Host: "10.0.0.5", Port: 6878, ContainerID: "c1", Duration: time.Millisecond})
		}},
		{"LogOrchestratorHealth", 10, func(l *Logger) {
			l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "healthy", CanProvision: true, VPNConnected: true,
				RecoveryETASeconds: 30, CapacityTotal: acestream.Known(10), CapacityUsed: acestream.Known(2), CapacityAvailable: acestream.Known(8)})
		}},
		{"LogDisconnect", 6, func(l *Logger) {
			l.LogDisconnect(ctx, acestream.Disconnect{StreamID: "s1", AceID: "abc", Reason: "completed", BytesCopied: 1 << 20, Duration: time.Second})
		}},
	} {
		assert.Zero(t, callerAllocs(func() { tc.call(off) }), "%s with debug mode off", tc.helper)
		want := 0.0
		if tc.fields > 5 {
			want = 1 // slog.Record's attributes past its inline five
		}
		for name, l := range map[string]*Logger{"on": on, "derived": derived} {
			assert.Equal(t, want, callerAllocs(func() { tc.call(l) }), "%s with debug mode %s", tc.helper, name)
		}
	}
}

// callerAllocs is what f allocates per call. AllocsPerRun counts the
// allocations of every goroutine (the writer's, the runtime's): the least
// of a few measurements is f's own.
func callerAllocs(f func()) float64 {
	least := testing.AllocsPerRun(200, f)
	for i := 0; i < 4 && least > 0; i++ {
		least = min(least, testing.AllocsPerRun(200, f))
	}
	return least
}

func TestEveryHelperTakesExtraAttributes(t *testing.T) {
	l, _ := newDebugLogger(t, Config{DisableStress: true})
	ctx := context.Background()
	extra := slog.Int("attempt", 3)
	l.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "abc", extra)
	l.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine"}, extra)
	l.LogProvisioning(ctx, "provision_success", time.Millisecond, true, nil, 0, extra)
	l.LogOrchestratorHealth(ctx, acestream.OrchestratorHealth{Status: "healthy"}, extra)
	l.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started"}, extra)
	l.LogStressEvent(ctx, stress.Event{Type: "mine", Level: slog.LevelWarn}, extra)
	l.LogError(ctx, "proxy", "engine_request", errors.New("refused"), extra)
	l.LogDisconnect(ctx, acestream.Disconnect{Reason: "completed"}, extra)
	require.NoError(t, l.Flush())
	for _, cat := range categoryNames {
		lines := readFile(t, l, cat)
		require.Len(t, lines, 1, cat)
		assert.Equal(t, 3.0, lines[0]["attempt"], cat)
	}
}

func TestWithKeepsTheHelpers(t *testing.T) {
	l, console := newDebugLogger(t, Config{DisableStress: true})
	ctx := context.Background()
	engine := l.With("engine_host", "10.0.0.5")
	engine.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "abc")
	engine.WithGroup("upstream").LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Port: 6878})
	engine.Info("plain slog keeps the attributes too")
	l.LogRequest(ctx, "GET", "/ace/status", time.Millisecond, 200, "")
	require.NoError(t, l.Flush())

	requests := readFile(t, l, "requests")
	require.Len(t, requests, 2)
	assert.Equal(t, "10.0.0.5", requests[0]["engine_host"])
	assert.Equal(t, "abc", requests[0]["ace_id"])
	assert.NotContains(t, requests[1], "engine_host", "the parent is unchanged")

	selections := readFile(t, l, "engine_selection")
	require.Len(t, selections, 1)
	assert.Equal(t, "engine_selection", selections[0]["category"], "the category stays outside the group")
	assert.Equal(t, "10.0.0.5", selections[0]["engine_host"])
	assert.Equal(t, map[string]any{"operation": "select_best_engine", "selected_host": "", "selected_port": 6878.0,
		"container_id": "", "duration_ms": 0.0, "error": nil}, selections[0]["upstream"])
	assert.Contains(t, console.String(), "engine_host=10.0.0.5")

	// A derived Logger follows debug mode being switched, and shares the
	// session: its records land in the session's files.
	require.NoError(t, l.SetDebug(false))
	require.NoError(t, l.SetDebug(true))
	engine.LogRequest(ctx, "GET", "/ace/getstream", time.Millisecond, 200, "def")
	require.NoError(t, engine.Flush())
	assert.Equal(t, l.SessionID(), engine.SessionID())
	requests = readFile(t, l, "requests")
	require.Len(t, requests, 3)
	assert.Equal(t, "def", requests[2]["ace_id"])
	assert.Equal(t, "10.0.0.5", requests[2]["engine_host"])
}

func TestWithOnTheDefaultBeforeInit(t *testing.T) {
	var out bytes.Buffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	Default().With("engine_host", "10.0.0.5").LogRequest(context.Background(), "GET", "/x", 0, 200, "")
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, "10.0.0.5", m["engine_host"])
	assert.Equal(t, "requests", m["category"])
}

func TestNilContextIsAccepted(t *testing.T) {
	l, _ := newDebugLogger(t, Config{})
	//lint:ignore SA1012 callers do pass nil
	l.LogRequest(nil, "GET", "/x", 0, 200, "") //nolint:staticcheck
	require.NoError(t, l.Flush())
	assert.Len(t, readFile(t, l, "requests"), 1)
}

func TestWriteErrorsReachTheConsole(t *testing.T) {
	// The report is printed on the handler's reporter goroutine: wait for it.
	console := chanConsole(make(chan string, 10))
	l, err := New(Config{Enabled: true, Dir: t.TempDir()}, console)
	require.NoError(t, err)
	defer l.Close()
	assert.Contains(t, <-console, "debug mode on")
	target := filepath.Join(t.TempDir(), "elsewhere")
	require.NoError(t, os.Symlink(target, l.Path("requests"))) // refused: a write error
	l.LogRequest(context.Background(), "GET", "/x", time.Millisecond, 200, "")
	require.Error(t, l.Flush())
	out := <-console
	assert.Contains(t, out, "debug mode: writing the debug files failed")
	assert.Contains(t, out, "lines_lost=1")
	assert.NoFileExists(t, target)
}

// chanConsole is a console that passes each line it is given to the test.
type chanConsole chan string

func (c chanConsole) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}
