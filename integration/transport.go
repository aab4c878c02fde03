package integration

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/reqid"
)

// Transport wraps base (http.DefaultTransport when nil) so that every call
// made with a context carrying request IDs forwards them (X-Request-ID and
// a traceparent continuing the request's trace), and logs the call to
// "orchestrator_calls": method, url (without credentials), status_code,
// duration_ms and error.
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

// sensitiveParams are query parameters whose values are never logged.
var sensitiveParams = []string{"api_key", "apikey", "key", "token", "access_token", "auth", "password", "passwd", "secret", "signature", "sig"}

// RedactURL returns u as a string without its user info and with the values
// of credential-like query parameters replaced by REDACTED.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range sensitiveParams {
				if lk == s || strings.HasSuffix(lk, "_"+s) {
					q[k] = []string{"REDACTED"}
					changed = true
				}
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}
