//go:build go1.25

package slogdebug

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/tracetool"
	"github.com/proxydebug/debugmode/reqid"
)

// The tests of this file run the process's one execution trace recorder:
// none of them is parallel.

// parsedTrace returns `go tool trace -d=parsed` of a snapshot, or skips
// the test when there is no go command to read it with.
func parsedTrace(t *testing.T, path string) string {
	t.Helper()
	if _, err := tracetool.GoCommand(); err != nil {
		t.Skipf("cannot read the trace: %v", err)
	}
	out, err := tracetool.Parsed(path)
	require.NoError(t, err)
	return out
}

// assertTraceHas checks that a parsed trace holds want; on failure it
// shows the trace's user log events only (a parsed trace is megabytes).
func assertTraceHas(t *testing.T, parsed, want string) {
	t.Helper()
	if strings.Contains(parsed, want) {
		return
	}
	var logs []string
	for _, line := range strings.Split(parsed, "\n") {
		if strings.Contains(line, " Log ") && len(logs) < 50 {
			logs = append(logs, line)
		}
	}
	t.Errorf("the trace has no %q; its user logs:\n%s", want, strings.Join(logs, "\n"))
}

// stressEvents returns the stress lines of an event type.
func stressEvents(t *testing.T, l *Logger, eventType string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range readFile(t, l, "stress") {
		if m["event_type"] == eventType {
			out = append(out, m)
		}
	}
	return out
}

func TestExecutionTraceSnapshotOnAStressEvent(t *testing.T) {
	l, _ := newDebugLogger(t, Config{ExecutionTrace: 10 * time.Second, StressCooldown: -1})
	ctx := reqid.With(context.Background(), reqid.FromHeaders("req-slow-1", ""))
	at := time.Now()
	logAt(t, l, ctx, at, "requests", "request", slog.String("path", "/fast"), slog.Duration("duration", time.Millisecond))
	logAt(t, l, ctx, at, "upstream", "calling http://proxy:SECRET1@engine:6878/ace/getstream?token=SECRET2", slog.String("path", "/fast"))
	logAt(t, l, ctx, at, "requests", "request", slog.String("path", "/slow"), slog.Duration("duration", 6*time.Second))
	// A second slow request within the cooldown (a minute): no snapshot.
	logAt(t, l, ctx, at.Add(30*time.Second), "requests", "request", slog.String("path", "/slow2"), slog.Duration("duration", 7*time.Second))
	require.NoError(t, l.Close())

	slow := stressEvents(t, l, "slow_request")
	require.Len(t, slow, 2)
	first := l.SessionID() + "_execution_trace_001.trace"
	assert.Equal(t, first, slow[0]["execution_trace"])
	assert.Equal(t, "/slow", slow[0]["path"])
	assert.NotContains(t, slow[1], "execution_trace", "within the cooldown")

	parsed := parsedTrace(t, filepath.Join(l.Dir(), first))
	// The category records are log events of the trace, the slow one too.
	assertTraceHas(t, parsed, `Category="requests" Message="request request_id=req-slow-1"`)
	// A trace is a file too: messages are redacted as the files' are.
	assertTraceHas(t, parsed, `Category="upstream" Message="calling http://REDACTED@engine:6878/ace/getstream?token=REDACTED request_id=req-slow-1"`)
	assert.NotContains(t, parsed, "SECRET")

	session := readFile(t, l, "session")
	end := session[len(session)-1]
	require.Equal(t, "session_end", end["event"])
	assert.Equal(t, map[string]any{"snapshots": 1.0, "skipped": 1.0, "failed": 0.0}, end["execution_trace"])
	assert.Equal(t, ExecutionTraceStats{Snapshots: 1, Skipped: 1}, l.ExecutionTraceStats())
	names, err := filepath.Glob(filepath.Join(l.Dir(), "*.trace"))
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(l.Dir(), first)}, names)
	var start map[string]any
	for _, m := range session {
		if m["event"] == "session_start" {
			start = m
		}
	}
	require.NotNil(t, start)
	assert.Equal(t, 10000.0, start["config"].(map[string]any)["execution_trace_ms"], "session_start has the window")
}

func TestExecutionTraceSnapshotWithTheFlightRecorder(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Config{Dir: dir, FlightRecorder: time.Minute, ExecutionTrace: 5 * time.Second}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	ctx := reqid.With(context.Background(), reqid.FromHeaders("req-off-1", ""))
	l.LogRequest(ctx, "GET", "/slow", 7*time.Second, 200, "abc")
	require.False(t, l.DebugMode())
	require.NoError(t, l.Close())

	slow := stressEvents(t, l, "slow_request")
	require.Len(t, slow, 1)
	name, _ := slow[0]["execution_trace"].(string)
	require.Equal(t, l.SessionID()+"_execution_trace_001.trace", name)
	parsed := parsedTrace(t, filepath.Join(dir, name))
	assertTraceHas(t, parsed, `Category="requests" Message="request request_id=req-off-1"`)
}

func TestExecutionTraceWithoutStressEventsWritesNothing(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Config{Dir: dir, ExecutionTrace: 5 * time.Second}, io.Discard)
	require.NoError(t, err)
	l.LogRequest(context.Background(), "GET", "/slow", 7*time.Second, 200, "abc")
	require.NoError(t, l.Close())
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents, "debug mode and the flight recorder off: no stress detection, no snapshot")
}

func TestOneExecutionTraceRecorderAtATime(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir(), ExecutionTrace: 5 * time.Second}, io.Discard)
	require.NoError(t, err)
	_, err = New(Config{Dir: t.TempDir(), ExecutionTrace: 5 * time.Second}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another Logger with ExecutionTrace")
	require.NoError(t, l.Close())
	l2, err := New(Config{Dir: t.TempDir(), ExecutionTrace: 5 * time.Second}, io.Discard)
	require.NoError(t, err, "Close stopped the first")
	require.NoError(t, l2.Close())
}

// TestInitAgainWithTheExecutionTrace: Init closes the previous default,
// and a new execution trace recorder takes over from its one.
func TestInitAgainWithTheExecutionTrace(t *testing.T) {
	restoreDefaults(t)
	first, err := Init(Config{Enabled: true, Dir: t.TempDir(), ExecutionTrace: 5 * time.Second})
	require.NoError(t, err)
	second, err := Init(Config{Enabled: true, Dir: t.TempDir(), ExecutionTrace: 5 * time.Second})
	require.NoError(t, err, "the first default's recorder made way")
	assert.Same(t, second, Default())
	lines := readFile(t, first, "session")
	assert.Equal(t, "session_end", lines[len(lines)-1]["event"], "the first session was ended")
}

// TestExecutionTraceFailureIsReported: a snapshot that cannot be written
// (the runtime refuses it) is counted, said on the console, and leaves
// nothing behind.
func TestExecutionTraceFailureIsReported(t *testing.T) {
	dir := t.TempDir()
	console := &syncWriter{}
	l, err := New(Config{Enabled: true, Dir: dir, ExecutionTrace: 5 * time.Second}, console)
	require.NoError(t, err)
	// Another snapshot of the runtime's recorder is under way (held in its
	// first write): the recorder refuses a second one at the same time.
	held := &heldWriter{started: make(chan struct{}), release: make(chan struct{})}
	otherDone := make(chan error)
	go func() {
		_, err := l.exec.rec.WriteTo(held)
		otherDone <- err
	}()
	<-held.started
	attempted := make(chan struct{})
	l.exec.written = func() { close(attempted) }
	l.LogRequest(context.Background(), "GET", "/slow", 7*time.Second, 200, "abc")
	<-attempted
	close(held.release) // before Close: Stop waits for a WriteTo under way
	require.NoError(t, <-otherDone)
	require.NoError(t, l.Flush())
	stressLines := readFile(t, l, "stress")
	require.Len(t, stressLines, 1)
	name, _ := stressLines[0]["execution_trace"].(string)
	require.NotEmpty(t, name, "the snapshot was asked for and named")
	require.NoError(t, l.Close())

	assert.Equal(t, ExecutionTraceStats{Snapshots: 1, Failed: 1}, l.ExecutionTraceStats())
	assert.Contains(t, console.String(), "debug mode: writing the execution trace failed")
	assert.NoFileExists(t, filepath.Join(dir, name), "a snapshot cut short is removed")
	session := readFile(t, l, "session")
	assert.Equal(t, map[string]any{"snapshots": 1.0, "skipped": 0.0, "failed": 1.0}, session[len(session)-1]["execution_trace"])
}

// heldWriter holds its first Write until release.
type heldWriter struct {
	started chan struct{}
	release chan struct{}
	once    bool
}

func (w *heldWriter) Write(p []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.started)
		<-w.release
	}
	return len(p), nil
}

func TestExecutionTraceConfig(t *testing.T) {
	cfg, err := configFromMap(map[string]string{"DEBUG_EXECUTION_TRACE": "10s", "DEBUG_EXECUTION_TRACE_BYTES": "32MiB",
		"DEBUG_EXECUTION_TRACE_COOLDOWN": "5m"})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, cfg.ExecutionTrace)
	assert.Equal(t, 32<<20, cfg.ExecutionTraceBytes)
	assert.Equal(t, 5*time.Minute, cfg.ExecutionTraceCooldown)

	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DEBUG_EXECUTION_TRACE": "soon"}, `DEBUG_EXECUTION_TRACE="soon": want a duration such as 10s, from 1s to 1h0m0s (0 for off)`},
		{map[string]string{"DEBUG_EXECUTION_TRACE": "10ms"}, `DEBUG_EXECUTION_TRACE="10ms": want 0 (off) or 1s to 1h0m0s`},
		{map[string]string{"DEBUG_EXECUTION_TRACE": "10s", "DEBUG_STRESS": "false"}, `DEBUG_EXECUTION_TRACE="10s": want 0 (off) while stress detection is off`},
		{map[string]string{"DEBUG_EXECUTION_TRACE_BYTES": "1KiB"}, `DEBUG_EXECUTION_TRACE_BYTES="1KiB": want 0 (the default, 16MiB) or 1048576 to 1073741824 bytes`},
		{map[string]string{"DEBUG_EXECUTION_TRACE_COOLDOWN": "1ms"}, `DEBUG_EXECUTION_TRACE_COOLDOWN="1ms": want 0 (the default, 1m) or 1s to 24h0m0s`},
		{map[string]string{"DEBUG_EXECUTION_TRAC": "10s"}, `did you mean DEBUG_EXECUTION_TRACE?`},
	} {
		_, err := configFromMap(strict(c.env))
		require.Error(t, err, c.env)
		assert.Contains(t, err.Error(), c.want, c.env)
	}
	assert.ErrorContains(t, Config{ExecutionTrace: time.Millisecond}.Validate(), "ExecutionTrace 1ms: want 0 (off) or 1s to 1h0m0s")
}

// TestTraceLogHandlerNeedsATrace: with no trace recorded, mirroring costs
// an atomic load and logs nothing.
func TestTraceLogHandlerNeedsATrace(t *testing.T) {
	h := traceLogHandler{}.WithAttrs([]slog.Attr{slog.String("category", "requests")})
	assert.False(t, h.Enabled(context.Background(), slog.LevelDebug))
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "request", 0)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = h.Handle(context.Background(), r) }))
	assert.True(t, strings.HasPrefix(ExecutionTraceKey, "execution_trace"))
}
