package integration

import (
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/reqid"
)

// Transport wraps base (http.DefaultTransport when nil) so that every call
// made with a context carrying request IDs forwards them (X-Request-ID and
// a traceparent continuing the request's trace), and logs the call to
// "orchestrator_calls": method, url (its credentials redacted by
// RedactURL), status_code, duration_ms and error.
func Transport(base http.RoundTripper, logger *slog.Logger) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, calls: logger.With(category.Key, category.OrchestratorCalls)}
}

type transport struct {
	base  http.RoundTripper
	calls *slog.Logger
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if ids := reqid.From(ctx); ids != nil {
		req = req.Clone(ctx) // a RoundTripper must not change the caller's request
		req.Header.Set(reqid.HeaderRequestID, ids.RequestID)
		req.Header.Set(reqid.HeaderTraceparent, ids.Traceparent())
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	t.calls.LogAttrs(ctx, slog.LevelDebug, "orchestrator_call",
		slog.String("method", req.Method),
		slog.String("url", RedactURL(req.URL)),
		slog.Int("status_code", status),
		slog.Duration("duration", time.Since(start)),
		slog.Any("error", err))
	return resp, err
}

// RedactURL returns u as a string with its credentials redacted exactly as
// the debug files and the console redact them (handler.Redactor.RedactText
// with the default keys): the user info, and the values of secret query and
// fragment parameters, become REDACTED; the rest is kept as u.String()
// writes it.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return handler.DefaultRedactor().RedactText(u.String())
}
