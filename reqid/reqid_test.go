package reqid

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/reqctx"
)

const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestParseTraceparent(t *testing.T) {
	got, ok := parseTraceparent(tp)
	require.True(t, ok)
	assert.Equal(t, IDs{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", ParentID: "00f067aa0ba902b7", Flags: "01"}, got)
	_, ok = parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")
	assert.True(t, ok, "a later version's extra fields are allowed")
	for _, bad := range []string{
		"", "garbage",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
	} {
		_, ok := parseTraceparent(bad)
		assert.False(t, ok, bad)
	}
}

func TestFromHeaders(t *testing.T) {
	ids := FromHeaders("req-42", tp)
	assert.Equal(t, "req-42", ids.RequestID)
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", ids.TraceID, "the caller's trace goes on")
	assert.Equal(t, "00f067aa0ba902b7", ids.ParentID)
	assert.Len(t, ids.SpanID, 16)
	assert.NotEqual(t, ids.ParentID, ids.SpanID, "this request is a new span")
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-"+ids.SpanID+"-01", ids.Traceparent())

	fresh := FromHeaders("", "")
	assert.Len(t, fresh.TraceID, 32)
	assert.Len(t, fresh.RequestID, 16)
	assert.True(t, validRequestID(fresh.RequestID))
	_, ok := parseTraceparent(fresh.Traceparent())
	assert.True(t, ok)

	unsafe := FromHeaders("bad id\nInjected: yes", "")
	assert.NotContains(t, unsafe.RequestID, "Injected", "an unsafe X-Request-ID is replaced")
	assert.Len(t, unsafe.RequestID, 16)
	assert.Equal(t, unsafe.TraceID, FromHeaders(strings.Repeat("x", 129), unsafe.Traceparent()).TraceID)
}

// Requests of one client trace (a browser page, a retrying client) each get
// their own request ID: the ID names the request, the trace ID the trace.
func TestFromHeadersRequestIDIsTheRequests(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		ids := FromHeaders("", tp)
		assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", ids.TraceID)
		assert.NotEqual(t, ids.TraceID, ids.RequestID)
		require.False(t, seen[ids.RequestID], "request ID %s given twice in one trace", ids.RequestID)
		seen[ids.RequestID] = true
	}
	a, b := New(), New()
	assert.NotEqual(t, a.RequestID, b.RequestID)
	assert.NotEqual(t, a.TraceID, a.RequestID)
}

func TestContext(t *testing.T) {
	assert.Nil(t, From(context.Background()))
	//lint:ignore SA1012 callers do pass nil
	assert.Nil(t, From(nil))
	ids := New()
	ctx := With(context.Background(), ids)
	require.NotNil(t, From(ctx))
	assert.Equal(t, ids, *From(ctx))
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add(tp)
	f.Add("")
	f.Add("00-" + strings.Repeat("a", 32) + "-" + strings.Repeat("b", 16) + "-00")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseTraceparent(s)
		if !ok {
			return
		}
		if len(p.TraceID) != 32 || len(p.ParentID) != 16 || len(p.Flags) != 2 {
			t.Fatalf("%q parsed to %+v", s, p)
		}
		again, ok := parseTraceparent(IDs{TraceID: p.TraceID, SpanID: p.ParentID, Flags: p.Flags}.Traceparent())
		if !ok || again != p {
			t.Fatalf("%q does not round-trip: %+v", s, again)
		}
	})
}

func FuzzFromHeaders(f *testing.F) {
	f.Add("req-1", tp)
	f.Add("a\r\nb", "junk")
	f.Fuzz(func(t *testing.T, rid, parent string) {
		ids := FromHeaders(rid, parent)
		if !validRequestID(ids.RequestID) {
			t.Fatalf("unsafe request ID kept: %q", ids.RequestID)
		}
		if _, ok := parseTraceparent(ids.Traceparent()); !ok {
			t.Fatalf("outgoing traceparent invalid: %q", ids.Traceparent())
		}
	})
}

// TestWithKeepsTheContext: the context With returns answers the parent's
// values, deadline and cancellation as context.WithValue's would, a nil
// parent is Background, and the outgoing traceparent is formatted once.
func TestWithKeepsTheContext(t *testing.T) {
	type other struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), other{}, "v"))
	ids := New()
	ctx := With(parent, ids)
	assert.Equal(t, "v", ctx.Value(other{}))
	assert.NoError(t, ctx.Err())
	cancel()
	<-ctx.Done()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	assert.Equal(t, ids, *From(ctx))

	//lint:ignore SA1012 callers do pass nil
	ctx = With(nil, ids)
	require.NotNil(t, From(ctx))
	assert.NoError(t, ctx.Err())

	e := reqctx.From[IDs](ctx)
	require.NotNil(t, e)
	assert.Equal(t, ids.Traceparent(), e.Traceparent)
	inner := New()
	assert.Equal(t, inner, *From(With(ctx, inner)), "the innermost IDs win")
}

// TestFromHeadersAllocatesOneString: a request's new IDs are one random
// read and one string (two on Go before 1.24, whose crypto/rand.Read lets
// its buffer escape).
func TestFromHeadersAllocatesOneString(t *testing.T) {
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = FromHeaders("", "") }), 2.0)
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _ = FromHeaders("req-1", tp) }), 2.0)
	ids := FromHeaders("", "")
	assert.Len(t, ids.SpanID, 16)
	assert.Len(t, ids.TraceID, 32)
	assert.Len(t, ids.RequestID, 16)
	assert.Equal(t, "01", ids.Flags)
	assert.NotEqual(t, ids.SpanID, ids.RequestID)
	assert.NotEqual(t, ids.TraceID[:16], ids.SpanID)
}
