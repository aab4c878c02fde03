package slogdebug

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug/otelspan"
)

// TestRequestIDsAndSpansAreStamped: the facade's hook gives the category
// handler the request IDs of package reqid and, with otelspan, the
// OpenTelemetry span.
func TestRequestIDsAndSpansAreStamped(t *testing.T) {
	l, _ := newDebugLogger(t, Config{DisableStress: true, SpanFromContext: otelspan.FromContext})
	ids := reqid.FromHeaders("req-7", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	inRequest := reqid.With(context.Background(), ids)
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	inSpan := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))

	l.LogRequest(inRequest, "GET", "/a", time.Millisecond, 200, "")
	l.With("category", "requests").ErrorContext(inRequest, "caller-encoded", "err", errors.New("x"))
	l.LogRequest(inSpan, "GET", "/b", time.Millisecond, 200, "")
	l.LogRequest(reqid.With(inSpan, reqid.FromHeaders("req-9", "")), "GET", "/c", time.Millisecond, 200, "")
	l.LogRequest(context.Background(), "GET", "/d", time.Millisecond, 200, "")
	require.NoError(t, l.Flush())

	lines := readFile(t, l, "requests")
	require.Len(t, lines, 5)
	for _, m := range lines[:2] {
		assert.Equal(t, "req-7", m["request_id"])
		assert.NotContains(t, m, "trace_id", "the request's own trace is on Middleware's line only")
	}
	assert.NotContains(t, lines[2], "request_id")
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", lines[2]["trace_id"])
	assert.Equal(t, "b7ad6b7169203331", lines[2]["span_id"])
	assert.Equal(t, "req-9", lines[3]["request_id"])
	assert.Equal(t, "0af7651916cd43dd8448eb211c80319c", lines[3]["trace_id"], "the span's trace wins over the request's own")
	assert.NotContains(t, lines[4], "request_id")
	assert.NotContains(t, lines[4], "trace_id")

	if !raceEnabled {
		stamp := l.cfg.stamp()
		assert.Zero(t, callerAllocs(func() { _, _, _ = stamp(inRequest) }))
		assert.Zero(t, callerAllocs(func() { _, _, _ = stamp(inSpan) }))
	}
}

// TestSpansNeedOtelspan: without Config.SpanFromContext an OpenTelemetry
// span in the context is not read, and a line has the request's ID, not its
// trace (Middleware's requests line has that).
func TestSpansNeedOtelspan(t *testing.T) {
	l, _ := newDebugLogger(t, Config{DisableStress: true})
	ids := reqid.FromHeaders("req-7", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(reqid.With(context.Background(), ids), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	l.LogRequest(ctx, "GET", "/a", time.Millisecond, 200, "")
	require.NoError(t, l.Flush())
	lines := readFile(t, l, "requests")
	require.Len(t, lines, 1)
	assert.Equal(t, "req-7", lines[0]["request_id"])
	assert.NotContains(t, lines[0], "trace_id")
	assert.NotContains(t, lines[0], "span_id")
}

// TestALinesOwnTraceWinsOverTheSpans: a record that carries its own
// trace_id (Middleware's requests line) is not stamped with the span's
// too: one trace_id per line.
func TestALinesOwnTraceWinsOverTheSpans(t *testing.T) {
	l, _ := newDebugLogger(t, Config{DisableStress: true, SpanFromContext: otelspan.FromContext})
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	inSpan := trace.ContextWithSpanContext(reqid.With(context.Background(), reqid.FromHeaders("req-1", "")),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	l.LogRequest(inSpan, "GET", "/a", time.Millisecond, 200, "", slog.String("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
		slog.String("span_id", "00f067aa0ba902b7"))
	require.NoError(t, l.Flush())
	raw, err := os.ReadFile(l.Path("requests"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(raw), `"trace_id"`), "%s", raw)
	assert.Equal(t, 1, strings.Count(string(raw), `"span_id"`), "%s", raw)
	lines := readFile(t, l, "requests")
	require.Len(t, lines, 1)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", lines[0]["trace_id"])
	assert.Equal(t, "req-1", lines[0]["request_id"], "the request's ID is still stamped")
}

// TestAPanickingSpanReaderKillsNothing: a SpanFromContext that panics
// leaves its line unstamped and is counted, once per line.
func TestAPanickingSpanReaderKillsNothing(t *testing.T) {
	l, _ := newDebugLogger(t, Config{DisableStress: true, SpanFromContext: func(context.Context) ([16]byte, [8]byte, bool) {
		panic("span reader broke")
	}})
	l.LogRequest(reqid.With(context.Background(), reqid.FromHeaders("req-1", "")), "GET", "/a", time.Millisecond, 200, "")
	require.NoError(t, l.Flush())
	lines := readFile(t, l, "requests")
	require.Len(t, lines, 1)
	assert.Equal(t, "/a", lines[0]["path"])
	assert.NotContains(t, lines[0], "request_id")
	assert.Equal(t, uint64(1), l.Stats().Panics)
}
