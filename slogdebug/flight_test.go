package slogdebug

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"regexp"
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
	require.NoError(t, l.Flush()) // the dump is written on the dumper's goroutine

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

	// The next event appends to the same session, with what came since:
	// the files stay open while events follow.
	session := l.SessionID()
	l.LogRequest(ctx, "GET", "/later", time.Millisecond, 200, "")
	l.LogRequest(ctx, "GET", "/slow-again", 6*time.Second, 200, "")
	require.NoError(t, l.Flush())
	assert.Equal(t, session, l.SessionID())
	reqs = readFile(t, l, "requests")
	require.Len(t, reqs, 4)
	assert.Equal(t, "/later", reqs[2]["path"])
	require.NoError(t, l.Close())
	var events []string
	for _, m := range readFile(t, l, "session") {
		events = append(events, m["event"].(string))
	}
	assert.Equal(t, []string{"session_start", "flight_recorder_dump", "session_end"}, events)
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
	n, bytes := len(st.recorder.entries), st.recorder.bytes
	st.recorder.mu.Unlock()
	assert.LessOrEqual(t, bytes, 64<<10)
	assert.Less(t, n, 10000)
	assert.Positive(t, n)
}

type point struct{ X, Y int }

// userValuer is a LogValuer whose value is a group holding a Go value.
type userValuer struct{ name string }

func (u userValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.name), slog.Any("roles", []string{"admin", "ops"}))
}

// TestFlightRecorderWritesWhatLiveModeWrites logs the same records with
// debug mode on and through the flight recorder: a dump writes every field
// as live mode does (Go values as JSON, not %+v), frozen at the log call.
func TestFlightRecorderWritesWhatLiveModeWrites(t *testing.T) {
	at := time.Now().Add(-time.Second)
	logAll := func(l *Logger) {
		p := &point{X: 1, Y: 2}
		m := map[string]any{"b": 2, "a": []int{1, 2}, "html": "<a&b>", "password": "hunter2", "url": "http://u:p@h/?token=t"}
		attrs := []slog.Attr{
			slog.Any("point", p),
			slog.Any("map", m),
			slog.Any("user", userValuer{name: "ann"}),
			slog.Any("error", errors.New("dial tcp: connection refused")),
			slog.Any("bytes", []byte("raw text")),
			slog.Any("nil", nil),
			slog.Group("g", slog.Any("inner", point{X: 3}), slog.Duration("wait", time.Second)),
			slog.Time("at", at),
			slog.Any("valuer_group", slog.GroupValue(slog.Any("p", point{Y: 4}))),
		}
		r := slog.NewRecord(at, slog.LevelDebug, "frozen", 0)
		r.AddAttrs(attrs...)
		h := l.With("category", "provisioning", "bound", point{X: 5}).WithGroup("req").Handler()
		require.NoError(t, h.Handle(context.Background(), r))
		p.X, m["b"] = 99, 99 // changed after the call: the line keeps what was logged
	}

	live, err := New(Config{Dir: t.TempDir(), Enabled: true, DisableStress: true}, io.Discard)
	require.NoError(t, err)
	defer live.Close()
	logAll(live)
	require.NoError(t, live.Flush())

	rec, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Minute}, io.Discard)
	require.NoError(t, err)
	defer rec.Close()
	logAll(rec)
	rec.LogRequest(context.Background(), "GET", "/slow", time.Minute, 200, "") // the trigger
	require.NoError(t, rec.Flush())

	// The lines, byte for byte, but for the session and its clock and the
	// dump's mark.
	strip := regexp.MustCompile(`"session_id":"[^"]*"|"elapsed_seconds":-?[0-9.]+|"recorded_before_trigger":true,`)
	wantLine, err := os.ReadFile(live.Path("provisioning"))
	require.NoError(t, err)
	gotLine, err := os.ReadFile(rec.Path("provisioning"))
	require.NoError(t, err)
	assert.Equal(t, strip.ReplaceAllString(string(wantLine), ""), strip.ReplaceAllString(string(gotLine), ""))

	want := readFile(t, live, "provisioning")
	got := readFile(t, rec, "provisioning")
	require.Len(t, want, 1)
	require.Len(t, got, 1)
	assert.Equal(t, true, got[0]["recorded_before_trigger"])
	for _, m := range []map[string]any{want[0], got[0]} {
		for _, k := range []string{"session_id", "elapsed_seconds", "recorded_before_trigger"} {
			delete(m, k)
		}
	}
	assert.Equal(t, want[0], got[0])
	assert.Equal(t, map[string]any{"X": 1.0, "Y": 2.0}, want[0]["req"].(map[string]any)["point"], "live mode writes JSON")
}

// TestFlightRecorderKeepsTheSpan: a dump writes the trace and span that
// Config.SpanFromContext read when the record was logged, over the
// request's own, as live debug mode does.
func TestFlightRecorderKeepsTheSpan(t *testing.T) {
	var trace [16]byte
	var span [8]byte
	copy(trace[:], "0123456789abcdef")
	copy(span[:], "spanspan")
	spanned := func(ctx context.Context) ([16]byte, [8]byte, bool) {
		return trace, span, ctx.Value(spanKey{}) != nil
	}
	l, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Minute, SpanFromContext: spanned}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	ids := reqid.FromHeaders("req-span", "")
	inRequest := reqid.With(context.Background(), ids)
	logAt(t, l, context.WithValue(inRequest, spanKey{}, true), time.Now(), "provisioning", "with a span")
	logAt(t, l, inRequest, time.Now(), "provisioning", "without")
	l.LogRequest(inRequest, "GET", "/slow", 7*time.Second, 200, "abc")
	require.NoError(t, l.Flush())

	prov := readFile(t, l, "provisioning")
	require.Len(t, prov, 2)
	for _, m := range prov {
		assert.Equal(t, "req-span", m["request_id"])
	}
	assert.Equal(t, "30313233343536373839616263646566", prov[0]["trace_id"])
	assert.Equal(t, "7370616e7370616e", prov[0]["span_id"])
	assert.NotContains(t, prov[1], "trace_id", "the request's own trace is on Middleware's line only")
}

type spanKey struct{}
