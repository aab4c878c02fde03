package integration

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Transport wraps base (http.DefaultTransport when nil) so that every call
// made with a context carrying request IDs forwards them (X-Request-ID and
// a traceparent continuing the request's trace), and logs the call to
// "orchestrator_calls" through logger (nil: slogdebug.Default() at each
// call): method, url (its credentials redacted as the files redact them), status_code,
// duration_ms and error. A base that is already a Transport is not wrapped
// twice: the new logger replaces the old. New wraps the Client's transport
// itself; use Transport for other calls to the orchestrator.
func Transport(base http.RoundTripper, logger *slogdebug.Logger) http.RoundTripper {
	if t, ok := base.(*transport); ok {
		base = t.base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	t := &transport{base: base}
	if logger != nil {
		t.calls = logger.With(category.Key, category.OrchestratorCalls)
	}
	return t
}

type transport struct {
	base  http.RoundTripper
	calls *slogdebug.Logger // nil: slogdebug.Default() at each call
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	calls := t.calls
	if calls == nil {
		calls = slogdebug.Default().With(category.Key, category.OrchestratorCalls)
	}
	req = withIDs(req)
	if !calls.Enabled(ctx, slog.LevelDebug) {
		return t.base.RoundTrip(req) // not written (debug mode off, or the category left out)
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	calls.LogAttrs(ctx, slog.LevelDebug, "orchestrator_call",
		slog.String("method", req.Method),
		slog.String("url", handler.DefaultRedactor().RedactText(req.URL.String())),
		slog.Int("status_code", status),
		slog.Duration("duration", time.Since(start)),
		slog.Any("error", err))
	return resp, err
}

// withIDs returns req with the request IDs of its context in its headers:
// a copy, since a RoundTripper must not change the caller's request.
func withIDs(req *http.Request) *http.Request {
	ids := reqid.From(req.Context())
	if ids == nil {
		return req
	}
	req = req.Clone(req.Context())
	req.Header.Set(reqid.HeaderRequestID, ids.RequestID)
	req.Header.Set(reqid.HeaderTraceparent, ids.Traceparent())
	return req
}
