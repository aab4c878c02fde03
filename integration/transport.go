package integration

import (
	"cmp"
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
// call): method, url (its credentials redacted as in the files),
// status_code, duration_ms and error. A base that is already a Transport is
// not wrapped twice: the new logger replaces the old. New wraps the
// Client's transport itself; use Transport for other calls to the
// orchestrator.
func Transport(base http.RoundTripper, logger *slogdebug.Logger) http.RoundTripper {
	if t, ok := base.(*transport); ok {
		base = t.base
	}
	return &transport{base: cmp.Or(base, http.DefaultTransport), logger: logger}
}

type transport struct {
	base   http.RoundTripper
	logger *slogdebug.Logger // nil: slogdebug.Default() at each call
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if ids := reqid.From(ctx); ids != nil {
		req = req.Clone(ctx) // a RoundTripper must not change the caller's request
		req.Header.Set(reqid.HeaderRequestID, ids.RequestID)
		req.Header.Set(reqid.HeaderTraceparent, ids.Traceparent())
	}
	calls := loggerOr(t.logger).With(category.Key, category.OrchestratorCalls)
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
		slog.String("url", handler.DefaultRedactor().RedactText(req.URL.String())), slog.Int("status_code", status),
		slog.Duration("duration", time.Since(start)), slog.Any("error", err))
	return resp, err
}
