package integration_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// cannedTransport answers every request at once, allocating nothing.
type cannedTransport struct{ resp http.Response }

func (c *cannedTransport) RoundTrip(*http.Request) (*http.Response, error) { return &c.resp, nil }

// forwardIDs is the least a wrapper forwarding the request IDs does the
// obvious way: a copy of the request with a copy of its header, the two IDs
// set.
type forwardIDs struct{ base http.RoundTripper }

func (f forwardIDs) RoundTrip(req *http.Request) (*http.Response, error) {
	if ids := reqid.From(req.Context()); ids != nil {
		req = req.WithContext(req.Context())
		req.Header = req.Header.Clone()
		req.Header.Set(reqid.HeaderRequestID, ids.RequestID)
		req.Header.Set(reqid.HeaderTraceparent, ids.Traceparent())
	}
	return f.base.RoundTrip(req)
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func newOff(t *testing.T) *slogdebug.Logger {
	t.Helper()
	off, err := slogdebug.New(slogdebug.Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	t.Cleanup(func() { off.Close() })
	return off
}

// TestTransportOffAllocatesOnlyTheForwarding: with debug mode off a call
// through Transport allocates the copy of the request that carries the
// IDs (less than the obvious forwarding does) and nothing without IDs to
// forward; Transport(base, nil) resolves its logger once, not at each call.
func TestTransportOffAllocatesOnlyTheForwarding(t *testing.T) {
	off := newOff(t)
	base := &cannedTransport{resp: http.Response{StatusCode: http.StatusOK, Body: http.NoBody}}
	withIDs, err := http.NewRequestWithContext(reqid.With(context.Background(), reqid.New()), http.MethodGet, "http://orch:8000/engines", nil)
	require.NoError(t, err)
	withIDs.Header.Set("Accept", "application/json")
	bare, err := http.NewRequest(http.MethodGet, "http://orch:8000/engines", nil)
	require.NoError(t, err)
	allocs := func(rt http.RoundTripper, req *http.Request) float64 {
		return testing.AllocsPerRun(200, func() { _, _ = rt.RoundTrip(req) })
	}

	reference := allocs(forwardIDs{base}, withIDs)
	for name, rt := range map[string]http.RoundTripper{"Transport(off)": integration.Transport(base, off), "Transport(nil)": integration.Transport(base, nil)} {
		assert.Zero(t, allocs(rt, bare), "%s: nothing to forward", name)
		got := allocs(rt, withIDs)
		assert.Less(t, got, reference, "%s: forwarding the IDs", name)
		t.Logf("%s: %v allocations a call forwarding the IDs (the obvious way: %v)", name, got, reference)
	}
}

// TestMiddlewareOffAllocatesOnlyTheIDs: with debug mode off a request
// through Middleware allocates no more than giving it its IDs does the
// obvious way (the IDs, the echoed header, the context, the request with
// it), whether the logger is given or the default.
func TestMiddlewareOffAllocatesOnlyTheIDs(t *testing.T) {
	off := newOff(t)
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	in := httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil)
	w := &discardWriter{header: http.Header{}}
	allocs := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() { h.ServeHTTP(w, in) })
	}
	reference := allocs(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := reqid.FromHeaders(r.Header.Get(reqid.HeaderRequestID), r.Header.Get(reqid.HeaderTraceparent))
		w.Header().Set(reqid.HeaderRequestID, ids.RequestID)
		nop.ServeHTTP(w, r.WithContext(reqid.With(r.Context(), ids)))
	}))
	for name, h := range map[string]http.Handler{"Middleware(off)": integration.Middleware(off)(nop), "Middleware(nil)": integration.Middleware(nil)(nop)} {
		got := allocs(h)
		assert.LessOrEqual(t, got, reference, name)
		t.Logf("%s: %v allocations a request (the IDs the obvious way: %v)", name, got, reference)
	}
}

// TestAddAttrsOffAllocatesNothing: AddAttrs outside Middleware and inside
// it with debug mode off allocates nothing.
func TestAddAttrsOffAllocatesNothing(t *testing.T) {
	id := "0acef00d0001"
	assert.Zero(t, testing.AllocsPerRun(200, func() {
		integration.AddAttrs(context.Background(), slog.String("container_id", id))
	}), "outside Middleware")
	var inside float64
	h := integration.Middleware(newOff(t))(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		inside = testing.AllocsPerRun(200, func() { integration.AddAttrs(r.Context(), slog.String("container_id", id)) })
	}))
	h.ServeHTTP(&discardWriter{header: http.Header{}}, httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil))
	assert.Zero(t, inside, "inside Middleware, debug mode off")
}
