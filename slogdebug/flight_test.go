package slogdebug

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/reqid"
)

// logAt logs a record of a category at a chosen time, through the Logger's
// handler, as slog would.
func logAt(t *testing.T, l *Logger, ctx context.Context, at time.Time, category, msg string, attrs ...slog.Attr) {
	t.Helper()
	r := slog.NewRecord(at, slog.LevelDebug, msg, 0)
	r.AddAttrs(attrs...)
	require.NoError(t, l.With("category", category).Handler().Handle(ctx, r))
}

func TestFlightRecorderWritesTheMinutesBeforeAStressEvent(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Config{Dir: dir, FlightRecorder: time.Minute, StressCooldown: -1}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	ctx := reqid.With(context.Background(), reqid.FromHeaders("req-before", ""))
	now := time.Now()

	logAt(t, l, ctx, now.Add(-2*time.Minute), "requests", "too old", slog.String("path", "/old"))
	logAt(t, l, ctx, now.Add(-30*time.Second), "provisioning", "attempt", slog.String("operation", "provision_attempt_failed"),
		slog.Any("error", errors.New("vpn down")))
	logAt(t, l, ctx, now.Add(-10*time.Second), "requests", "request", slog.String("path", "/recent"), slog.Duration("duration", time.Second))
	ents, _ := os.ReadDir(dir)
	assert.Empty(t, ents, "nothing on disk while debug mode is off")

	// A slow request: a stress event, which writes the window out.
	l.LogRequest(ctx, "GET", "/slow", 7*time.Second, 200, "abc")
	assert.False(t, l.DebugMode(), "debug mode stays off")

	reqs := readFile(t, l, "requests")
	require.Len(t, reqs, 2, "the recent request and the slow one; not the one older than the window")
	assert.Equal(t, "/recent", reqs[0]["path"])
	assert.Equal(t, true, reqs[0]["recorded_before_trigger"])
	assert.Equal(t, "req-before", reqs[0]["request_id"], "the context's IDs were kept")
	assert.Equal(t, "/slow", reqs[1]["path"])
	prov := readFile(t, l, "provisioning")
	require.Len(t, prov, 1)
	assert.Equal(t, "vpn down", prov[0]["error"])
	stressLines := readFile(t, l, "stress")
	require.Len(t, stressLines, 1)
	assert.Equal(t, "slow_request", stressLines[0]["event_type"])
	assert.NotContains(t, stressLines[0], "recorded_before_trigger")

	// The next event appends to the same session, with what came since.
	session := l.SessionID()
	l.LogRequest(ctx, "GET", "/later", time.Millisecond, 200, "")
	l.LogRequest(ctx, "GET", "/slow-again", 6*time.Second, 200, "")
	assert.Equal(t, session, l.SessionID())
	reqs = readFile(t, l, "requests")
	require.Len(t, reqs, 4)
	assert.Equal(t, "/later", reqs[2]["path"])
	var events []string
	for _, m := range readFile(t, l, "session") {
		events = append(events, m["event"].(string))
	}
	assert.Equal(t, []string{"session_start", "flight_recorder_dump", "debug_enabled", "flight_recorder_dump"}, events)
	assertElapsedFromSessionStart(t, l) // the dumped records happened before the dump
}

func TestFlightRecorderIsBoundedInBytes(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Hour, FlightRecorderBytes: 64 << 10}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	for i := range 10000 {
		l.LogRequest(context.Background(), "GET", "/x", time.Millisecond, 200, "")
		_ = i
	}
	st := l.st.Load()
	st.recorder.mu.Lock()
	n, bytes := st.recorder.n, st.recorder.bytes
	st.recorder.mu.Unlock()
	assert.LessOrEqual(t, bytes, 64<<10)
	assert.Less(t, n, 10000)
	assert.Positive(t, n)
}
