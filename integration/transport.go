package integration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/reqctx"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Transport wraps base so that calls forward the context's request IDs
// (X-Request-ID, traceparent) while debug records are kept (debug mode on,
// or the flight recorder), and are logged to "orchestrator_calls" (when
// written: DEBUG_ORCHESTRATOR_CALLS), URL redacted; with debug mode off a
// call goes as it came. A Transport is not wrapped twice: the new logger replaces the old.
// Under a client with a Timeout it keeps connections as base alone does, but
// net/http then spends a goroutine and a timer on each call: WrapClient
// such a client instead.
func Transport(base http.RoundTripper, logger *slogdebug.Logger) http.RoundTripper {
	return newTransport(base, logger, 0)
}

// WrapClient returns a copy of c (nil: one like http.DefaultClient) whose
// transport is Transport(c.Transport, logger) and whose Timeout bounds each
// request it sends, body included, as a deadline in the request's context
// (a redirect is a request of its own): net/http's cheap road, where the
// client's own Timeout over a wrapped transport takes its legacy one. A
// request that runs out of it fails with a net.Error whose Timeout is true
// and that wraps context.DeadlineExceeded.
func WrapClient(c *http.Client, logger *slogdebug.Logger) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.Transport, out.Timeout = newTransport(out.Transport, logger, max(out.Timeout, 0)), 0
	return &out
}

func newTransport(base http.RoundTripper, logger *slogdebug.Logger, timeout time.Duration) *transport {
	if t, ok := base.(*transport); ok {
		base, timeout = t.base, cmp.Or(timeout, t.timeout)
	}
	t := &transport{base: cmp.Or(base, http.DefaultTransport), timeout: timeout}
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
	base    http.RoundTripper
	timeout time.Duration     // WrapClient's client's Timeout; 0: none
	calls   *slogdebug.Logger // nil: dflt's
	dflt    followDefault     // slogdebug.Default()'s orchestrator_calls logger
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, callCtx := req.Context(), req.Context()
	var stop context.CancelFunc
	if t.timeout > 0 {
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > t.timeout {
			callCtx, stop = context.WithTimeout(ctx, t.timeout)
		}
	}
	calls := t.calls
	if calls == nil {
		calls = t.dflt.get()
	}
	// The IDs go along while debug records are kept (debug mode on, or the
	// flight recorder): they pair the two systems' lines. Otherwise the
	// call goes as it came, but for the Timeout's deadline.
	debug := calls.Enabled(ctx, slog.LevelDebug)
	out := outgoing(req, callCtx, stop != nil, debug)
	if !debug || !selected(calls) {
		resp, err := t.base.RoundTrip(out)
		if stop != nil {
			resp, err = t.bound(ctx, callCtx, stop, resp, err)
		}
		return resp, err
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(out)
	if stop != nil {
		resp, err = t.bound(ctx, callCtx, stop, resp, err)
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	calls.LogAttrs(ctx, slog.LevelDebug, "orchestrator_call", slog.String("method", req.Method),
		slog.String("url", redact.Default().RedactText(req.URL.String())), slog.Int("status_code", status),
		slog.Duration("duration", time.Since(start)), slog.Any("error", err))
	return resp, err
}

// selected reports whether orchestrator_calls lines are written (it is
// left out by default), debug mode being on.
func selected(calls *slogdebug.Logger) bool {
	s, ok := calls.Handler().(category.Selector)
	return !ok || s.Selected(category.OrchestratorCalls)
}

// CloseIdleConnections closes base's idle connections, when it has such a
// method, for http.Client.CloseIdleConnections.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// bound ends the Timeout's deadline with the answer: at once on an error,
// else when its body is read to its end or closed, as http.Client does.
func (t *transport) bound(parent, ctx context.Context, stop context.CancelFunc, resp *http.Response, err error) (*http.Response, error) {
	if err != nil || resp == nil || resp.Body == nil { // the last two, a broken base's: http.Client says so
		if err != nil {
			err = t.timedOut(parent, ctx, err)
		}
		stop()
		return resp, err
	}
	resp.Body = &boundBody{ReadCloser: resp.Body, t: t, parent: parent, ctx: ctx, stop: stop}
	return resp, nil
}

// timedOut says so when err is the Timeout's deadline (not the caller's).
func (t *transport) timedOut(parent, ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && parent.Err() == nil {
		return &timeoutError{timeout: t.timeout, err: err}
	}
	return err
}

type boundBody struct {
	io.ReadCloser
	t           *transport
	parent, ctx context.Context
	stop        context.CancelFunc
}

func (b *boundBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.stop()
	} else if err != nil {
		err = b.t.timedOut(b.parent, b.ctx, err)
	}
	return n, err
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}

// timeoutError is a request that ran out of WrapClient's Timeout.
type timeoutError struct {
	timeout time.Duration
	err     error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no complete answer within the client's Timeout (%v): %v", e.timeout, e.err)
}
func (e *timeoutError) Unwrap() error { return e.err }
func (e *timeoutError) Timeout() bool { return true } // net.Error; url.Error asks it

// Temporary is net.Error's other method (deprecated there, still required).
func (e *timeoutError) Temporary() bool { return true }

// The canonical forms of reqid's headers, as http.Header.Set would key them.
const (
	keyRequestID   = "X-Request-Id"
	keyTraceparent = "Traceparent"
)

// outgoing returns req as it is sent on, with ctx (req's, or a new one with
// WrapClient's deadline): with the context's request IDs in a header of its
// own (a RoundTripper must not change the caller's request), and without a
// Cancel channel when req's context has a deadline.
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
// deadline keeps its Cancel. WrapClient's client has no Timeout, so it sets
// no Cancel: http.Client's cheap road (the deadline alone, lines 363-372).
func outgoing(req *http.Request, ctx context.Context, newCtx, withIDs bool) *http.Request {
	var ids *reqctx.Entry[reqid.IDs]
	if withIDs {
		ids = reqctx.From[reqid.IDs](ctx) // reqid.With's, the traceparent formatted once per request
	}
	dropCancel := false
	//lint:ignore SA1019 the deprecated field is the one dropped (see above)
	if req.Cancel != nil {
		_, dropCancel = req.Context().Deadline()
	}
	if ids == nil && !dropCancel && !newCtx {
		return req
	}
	out := req.WithContext(ctx) // a shallow copy
	if dropCancel {
		//lint:ignore SA1019 the deprecated field is the one dropped (see above)
		out.Cancel = nil
	}
	if ids != nil {
		out.Header = headerWithIDs(req.Header, ids.IDs.RequestID, ids.Traceparent)
	}
	return out
}

// headerWithIDs returns a copy of h with X-Request-ID and traceparent set.
func headerWithIDs(h http.Header, requestID, traceparent string) http.Header {
	n := 2
	for _, v := range h {
		n += len(v)
	}
	out, vals := make(http.Header, len(h)+2), make([]string, 0, n) // as Header.Clone: one array for the values
	for k, v := range h {
		vals = append(vals, v...)
		out[k] = vals[len(vals)-len(v) : len(vals) : len(vals)]
	}
	vals = append(vals, requestID, traceparent)
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
