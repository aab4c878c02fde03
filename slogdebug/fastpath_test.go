package slogdebug

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineHead is what differs between two sessions' lines of the same
// record: the session, the time and the elapsed time.
var lineHead = regexp.MustCompile(`^\{"session_id":"[^"]*","timestamp":"[^"]*","elapsed_seconds":[0-9.]+,`)

// rawLines returns the lines of a category's file without their heads.
func rawLines(t *testing.T, l *Logger, cat string) []string {
	t.Helper()
	data, err := os.ReadFile(l.Path(cat))
	require.NoError(t, err)
	var out []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		require.Regexp(t, lineHead, line)
		out = append(out, lineHead.ReplaceAllString(line, "{"))
	}
	return out
}

// TestFastPathWritesTheFanOutsLines logs every helper, every shape (extra
// attributes, errors, a failed provisioning, secrets, a request's IDs,
// a derived Logger) through a Logger whose helpers take the fast path and
// through one whose console takes their records (so they build them and
// go through the fan-out), and compares the files line for line.
func TestFastPathWritesTheFanOutsLines(t *testing.T) {
	redact := []string{"ace_id"}
	fast, _ := newDebugLogger(t, Config{RedactKeys: redact})
	slow, _ := newDebugLogger(t, Config{RedactKeys: redact, ConsoleCategories: true, ConsoleLevel: slog.LevelDebug})
	for _, i := range []categoryIndex{idxRequests, idxEngineSelection, idxProvisioning, idxStreams, idxDisconnects} {
		assert.NotNil(t, fast.fast(i), "%s: the default set-up has a fast path", categoryNames[i])
		assert.Nil(t, slow.fast(i), "%s: a console taking Debug has none", categoryNames[i])
	}

	ctx := reqid.With(context.Background(), reqid.IDs{RequestID: "4bf92f3577b34da6", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"})
	failure := errors.New("dial tcp 10.0.0.5:6878: connection refused")
	for _, l := range []*Logger{fast, slow} {
		for _, lg := range []*Logger{l, l.With("engine_host", "10.0.0.5"), l.WithGroup("g").With("k", 1)} {
			lg.LogRequest(ctx, "GET", "/ace/getstream?id=x&token=s3cret", 1234567*time.Nanosecond, 200, "94c2fd8f")
			lg.LogRequest(context.Background(), "HEAD", "/ace/manifest.m3u8", time.Millisecond, 404, "", slog.Int("attempt", 2))
			lg.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Host: "10.0.0.5", Port: 6878, ContainerID: "c1", Duration: time.Millisecond})
			lg.LogEngineSelection(ctx, acestream.EngineSelection{Operation: "select_best_engine", Duration: time.Millisecond, Err: failure})
			lg.LogProvisioning(ctx, "provision_success", 2*time.Second, true, nil, 1)
			lg.LogProvisioning(ctx, "provision_attempt", time.Second, false, failure, 2)
			lg.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: "s1", EngineID: "c1", Duration: time.Millisecond})
			lg.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_ended", StreamID: "s1", EngineID: "c1"}, slog.String("password", "p"))
			lg.LogDisconnect(ctx, acestream.Disconnect{StreamID: "s1", AceID: "94c2fd8f", Reason: "completed", BytesCopied: 1 << 20, Duration: time.Second})
			lg.LogDisconnect(ctx, acestream.Disconnect{StreamID: "s1", Reason: "client_disconnected", Err: failure, Duration: time.Second})
		}
		require.NoError(t, l.Flush())
	}
	for _, cat := range []string{category.Requests, category.EngineSelection, category.Provisioning, category.Streams, category.Disconnects} {
		want := rawLines(t, slow, cat)
		got := rawLines(t, fast, cat)
		require.NotEmpty(t, want, cat)
		assert.Equal(t, want, got, cat)
	}
	requests := readFile(t, fast, category.Requests)
	assert.Equal(t, "4bf92f3577b34da6", requests[0]["request_id"])
	assert.Equal(t, "[REDACTED]", requests[0]["ace_id"])
	assert.NotContains(t, requests[0]["path"], "s3cret")
	assert.Equal(t, 1.234567, requests[0]["duration_ms"])
}

// TestFastPathLeavesStressToTheDetector: a record slow enough to be a
// stress event goes through the fan-out, and the event is written; the
// fast records around it are not events.
func TestFastPathLeavesStressToTheDetector(t *testing.T) {
	l, _ := newDebugLogger(t, Config{})
	ctx := context.Background()
	l.LogRequest(ctx, "GET", "/fast", time.Millisecond, 200, "a")
	l.LogRequest(ctx, "GET", "/slow", time.Minute, 200, "b")
	l.LogRequest(ctx, "GET", "/fast", time.Millisecond, 200, "c")
	require.NoError(t, l.Flush())
	requests := readFile(t, l, category.Requests)
	require.Len(t, requests, 3)
	assert.Equal(t, []any{"a", "b", "c"}, []any{requests[0]["ace_id"], requests[1]["ace_id"], requests[2]["ace_id"]})
	events := readFile(t, l, category.Stress)
	require.Len(t, events, 1)
	assert.Equal(t, "slow_request", events[0]["event_type"])
	assert.Equal(t, "/slow", events[0]["path"])
}
