package integration

import (
	"cmp"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Transport wraps base so that calls forward the context's request IDs
// (X-Request-ID, traceparent) and are logged to "orchestrator_calls", URL
// redacted. A Transport is not wrapped twice: the new logger replaces the old.
// Its client may keep a Timeout: connections are reused as with base alone.
func Transport(base http.RoundTripper, logger *slogdebug.Logger) http.RoundTripper {
	if t, ok := base.(*transport); ok {
		base = t.base
	}
	t := &transport{base: cmp.Or(base, http.DefaultTransport)}
	if logger != nil {
		t.calls = logger.With(category.Key, category.OrchestratorCalls) // derived once, not per call
	} else {
		t.dflt.derive = func(l *slogdebug.Logger) *slogdebug.Logger {
			return l.With(category.Key, category.OrchestratorCalls)
		}
	}
	return t
}

type transport struct {
	base  http.RoundTripper
	calls *slogdebug.Logger // nil: dflt's
	dflt  followDefault     // slogdebug.Default()'s orchestrator_calls logger
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	req = outgoing(req)
	calls := t.calls
	if calls == nil {
		calls = t.dflt.get()
	}
	if !calls.Enabled(ctx, slog.LevelDebug) {
		return t.base.RoundTrip(req) // not written (debug mode off, or the category left out)
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	calls.LogAttrs(ctx, slog.LevelDebug, "orchestrator_call", slog.String("method", req.Method),
		slog.String("url", redact.Default().RedactText(req.URL.String())), slog.Int("status_code", status),
		slog.Duration("duration", time.Since(start)), slog.Any("error", err))
	return resp, err
}

// The canonical forms of reqid's headers, as http.Header.Set would key them.
const (
	keyRequestID   = "X-Request-Id"
	keyTraceparent = "Traceparent"
)

// outgoing returns req as it is sent on: with the context's request IDs in a
// header of its own (a RoundTripper must not change the caller's request),
// and without a Cancel channel when the context has a deadline.
//
// Why Cancel goes: an http.Client with a Timeout whose transport is not an
// *http.Transport (this wrapper, or any other) takes net/http's legacy
// cancellation road. Its setRequestCancel (net/http/client.go, Go 1.26.8
// lines 356-420; knownRoundTripperImpl, lines 325-345, decides) puts the
// Timeout into the request's context as a deadline (line 378) and, besides,
// sets Request.Cancel to a channel (line 382) closed by a timer goroutine of
// its own (lines 406-417). Since Go 1.23 http.Transport.roundTrip turns a non-nil
// Request.Cancel into context cancellation with one more goroutine per
// request (net/http/transport.go lines 656-658, awaitLegacyCancel at
// 751-756), woken as each response completes. That wake-up changes which
// goroutine runs next: measured on go1.26.8, 8 callers making 2,000 calls
// over Go's default idle pool (2 connections per host) opened about 30
// connections through an *http.Transport and about 700 through a wrapper
// that passed Cancel on, the pool refusing the extra ones ("too many idle
// connections for host") and closing them. Go 1.22 selected on Cancel inside
// persistConn.roundTrip, without a goroutine, and shows no such difference.
// The deadline already carries the Timeout, so Cancel adds nothing here;
// net/http documents that with both a context and Cancel set "it is
// undefined whether Cancel is respected". A request whose context has no
// deadline keeps its Cancel.
func outgoing(req *http.Request) *http.Request {
	ctx := req.Context()
	ids := reqid.From(ctx)
	dropCancel := false
	if req.Cancel != nil {
		_, dropCancel = ctx.Deadline()
	}
	if ids == nil && !dropCancel {
		return req
	}
	out := new(http.Request)
	*out = *req // as Request.WithContext copies it
	if dropCancel {
		out.Cancel = nil
	}
	if ids != nil {
		out.Header = withIDs(req.Header, ids)
	}
	return out
}

// withIDs returns a copy of h with ids' X-Request-ID and traceparent set.
func withIDs(h http.Header, ids *reqid.IDs) http.Header {
	n := 2
	for _, v := range h {
		n += len(v)
	}
	out, vals := make(http.Header, len(h)+2), make([]string, 0, n) // as Header.Clone: one array for the values
	for k, v := range h {
		vals = append(vals, v...)
		out[k] = vals[len(vals)-len(v) : len(vals) : len(vals)]
	}
	vals = append(vals, ids.RequestID, ids.Traceparent())
	out[keyRequestID], out[keyTraceparent] = vals[n-2:n-1:n-1], vals[n-1:n:n]
	return out
}

// followDefault resolves slogdebug.Default() (and derive of it) once per
// default, not at each call: Default makes a new Logger at each call before
// Init, and derive allocates. Init makes its Logger slog's default too, so a
// new slog.Default() is what says the default may have changed.
type followDefault struct {
	derive func(*slogdebug.Logger) *slogdebug.Logger // nil: the default as it is
	last   atomic.Pointer[followed]
}

type followed struct {
	key    *slog.Logger // slog.Default() when resolved
	logger *slogdebug.Logger
}

func (f *followDefault) get() *slogdebug.Logger {
	key := slog.Default()
	if last := f.last.Load(); last != nil && last.key == key {
		return last.logger
	}
	l := slogdebug.Default()
	if f.derive != nil {
		l = f.derive(l)
	}
	f.last.Store(&followed{key: key, logger: l})
	return l
}
