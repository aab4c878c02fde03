package slogdebug

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	l.LogEngineSelection(ctx, "select_best_engine", "10.0.0.5", 6878, "3f2a9c1be0d4", 40*time.Millisecond, nil)
	l.LogEngineSelection(ctx, "select_best_engine", "", 0, "", 2*time.Second, boom)
	l.LogProvisioning(ctx, "provision_attempt_failed", 1500*time.Millisecond, false, boom, 2)
	l.LogOrchestratorHealth(ctx, OrchestratorHealth{Status: "degraded", CanProvision: false, BlockedReason: "Circuit breaker is open",
		BlockedReasonCode: "circuit_breaker", RecoveryETASeconds: 60, VPNConnected: true, EngineCount: 3, StreamCount: 2,
		Capacity: Capacity{Total: 10, Used: 3, Available: 7}})
	l.LogStreamEvent(ctx, "stream_started", "abc|sess1", "3f2a9c1be0d4", 12*time.Millisecond, slog.String("engine_host", "10.0.0.5"))
	l.LogStressEvent(ctx, "slow_request", SeverityWarning, "Request took 5.21s", slog.String("path", "/ace/getstream"))
	l.LogError(ctx, "orchestrator_client", "report_stream_started", boom, slog.String("stream_id", "abc|sess1"))
	l.LogDisconnect(ctx, "abc|sess1", "abc", "client_disconnected", io.ErrClosedPipe, 1<<20, 90*time.Second)
	require.NoError(t, l.Flush())

	for _, tc := range []struct {
		category string
		want     []map[string]any
	}{
		{"requests", []map[string]any{{"method": "GET", "path": "/ace/getstream", "duration_ms": 5210.0, "status_code": 200.0, "ace_id": "abc123"}}},
		{"engine_selection", []map[string]any{
			{"operation": "select_best_engine", "selected_host": "10.0.0.5", "selected_port": 6878.0, "container_id": "3f2a9c1be0d4", "duration_ms": 40.0, "error": nil},
			{"operation": "select_best_engine", "selected_host": "", "selected_port": 0.0, "container_id": "", "duration_ms": 2000.0, "error": "no engines available"},
		}},
		{"provisioning", []map[string]any{{"operation": "provision_attempt_failed", "duration_ms": 1500.0, "success": false, "error": "no engines available", "retry_count": 2.0}}},
		{"orchestrator_health", []map[string]any{{"status": "degraded", "can_provision": false, "blocked_reason": "Circuit breaker is open",
			"blocked_reason_code": "circuit_breaker", "recovery_eta_seconds": 60.0, "vpn_connected": true, "engine_count": 3.0, "stream_count": 2.0,
			"capacity": map[string]any{"total": 10.0, "used": 3.0, "available": 7.0}}}},
		{"streams", []map[string]any{{"event_type": "stream_started", "stream_id": "abc|sess1", "engine_id": "3f2a9c1be0d4", "duration_ms": 12.0, "engine_host": "10.0.0.5"}}},
		{"stress", []map[string]any{{"event_type": "slow_request", "severity": "warning", "description": "Request took 5.21s", "path": "/ace/getstream"}}},
		{"errors", []map[string]any{{"component": "orchestrator_client", "operation": "report_stream_started", "error_type": "*errors.errorString", "error_message": "no engines available", "stream_id": "abc|sess1"}}},
		{"disconnects", []map[string]any{{"stream_id": "abc|sess1", "ace_id": "abc", "reason": "client_disconnected", "error": "io: read/write on closed pipe", "bytes_copied": float64(1 << 20), "duration_ms": 90000.0}}},
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

func TestPlainSlogAndHelpersShareFiles(t *testing.T) {
	l, _ := newDebugLogger(t, Config{})
	l.LogProvisioning(context.Background(), "provision_success", time.Second, true, nil, 0)
	l.With("category", CategoryProvisioning).Debug("custom", "operation", "warmup")
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
	l.LogStressEvent(context.Background(), "provisioning_circuit_breaker", SeverityCritical, "blocked")
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
	l.With("category", "provisioning").Info("provisioned", "container_id", "c1")
	require.NoError(t, l.Flush())
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, "provisioned", m["msg"])
	assert.Equal(t, "provisioning", m["category"])
	assert.Len(t, readFile(t, l, "provisioning"), 1)
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
	l, _ := newDebugLogger(t, Config{FlushInterval: 50 * time.Millisecond, ConsoleLevel: slog.LevelWarn})
	require.NoError(t, l.Close())
	lines := readFile(t, l, "session")
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"enabled": true, "console": "tint", "console_level": "WARN", "no_color": true, "stress": true, "flight_recorder_ms": 0.0,
		"stress_slow": map[string]any{"requests_ms": 5000.0, "engine_selection_ms": 2000.0}}, lines[0]["config"], "no colour: the console is no terminal")
	opts := lines[0]["options"].(map[string]any)
	assert.Equal(t, 50.0, opts["flush_interval_ms"])
	assert.Equal(t, float64(8<<20), opts["queue_bytes"])
	assert.Equal(t, "session_end", lines[1]["event"])
}

func TestNewReportsAnUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := New(Config{Enabled: true, Dir: file}, io.Discard)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "slogdebug: debug mode: handler: create log directory"), err.Error())
}

func TestHelpersAllocateNothing(t *testing.T) {
	ctx := context.Background()
	off, err := New(Config{}, io.Discard)
	require.NoError(t, err)
	on, _ := newDebugLogger(t, Config{})
	for name, l := range map[string]*Logger{"off": off, "on": on} {
		allocs := testing.AllocsPerRun(1000, func() {
			l.LogRequest(ctx, "GET", "/ace/getstream", time.Second, 200, "abc")
		})
		assert.Zero(t, allocs, "LogRequest with debug mode %s", name)
	}
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
