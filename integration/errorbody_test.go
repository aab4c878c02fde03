package integration_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// What a response body of the integration package must never hold: an IP
// address, a host:port, the words of a dial, an error chain (": " nesting,
// as %w makes), a file path.
var internals = map[string]*regexp.Regexp{
	"an IP address":   regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b|\[?[0-9a-fA-F]*::[0-9a-fA-F:]*\]?`),
	"a host:port":     regexp.MustCompile(`[A-Za-z0-9\]][A-Za-z0-9.\-\]]*:\d{1,5}\b`),
	"dial":            regexp.MustCompile(`(?i)dial`),
	"tcp":             regexp.MustCompile(`(?i)tcp`),
	"an error chain":  regexp.MustCompile(`: `),
	"a file path":     regexp.MustCompile(`(^|[\s"'(=])(/[^\s/]+)+/?|[A-Za-z]:\\|\.(go|py)\b`),
	"a URL":           regexp.MustCompile(`(?i)https?://`),
	"a Go type":       regexp.MustCompile(`\*[a-z]+\.[A-Z]`),
	"a Python report": regexp.MustCompile(`Traceback`),
}

// assertNoInternals checks a response body against internals.
func assertNoInternals(t *testing.T, body, what string) {
	t.Helper()
	for name, re := range internals {
		assert.False(t, re.MatchString(body), "%s: the body %q holds %s (%q)", what, body, name, re.FindString(body))
	}
}

// An orchestrator's answers that carry its internals, as a broken one does.
const (
	internalBody = `Traceback (most recent call last): File "/app/orchestrator/main.py", line 42: dial tcp 10.0.0.7:8000: connect: connection refused`
	blockedBody  = `{"detail":{"error":"provisioning_blocked","code":"vpn_disconnected","message":"gluetun at 10.0.0.9:8000: dial tcp: i/o timeout","recovery_eta_seconds":120,"can_retry":true}}`
	legacyBody   = `{"detail":"Provisioning blocked: VPN at 172.17.0.2:8000 is disconnected (see /var/log/gluetun.log)"}`
	noRetryBody  = `{"detail":{"error":"provisioning_blocked","code":"max_capacity","message":"max 10 engines on docker://10.0.0.1:2375","can_retry":false}}`
)

// orchestratorAnswering is an orchestrator whose engine list is empty (so
// each request provisions) and whose provisioning answers status and body;
// engines, when set, answers the engine list instead.
func orchestratorAnswering(status int, body string, engines http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/engines" && engines != nil:
			engines(w, r)
		case r.URL.Path == "/engines":
			_, _ = io.WriteString(w, `[]`)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	})
}

// proxyThrough is the README's proxy (Middleware, SelectBestEngine,
// WriteProvisionError) in front of the orchestrator at orchURL.
func proxyThrough(t *testing.T, log *slogdebug.Logger, orchURL string, opts integration.Options) *httptest.Server {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: tr}
	}
	opts.Sleep = func(context.Context, time.Duration) error { return nil }
	c, err := integration.New(orchURL, log, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := c.SelectBestEngine(r.Context()); err != nil {
			integration.WriteProvisionError(w, err)
			return
		}
		_, _ = io.WriteString(w, "stream")
	})))
	t.Cleanup(srv.Close)
	return srv
}

// TestErrorBodiesShowNoInternals goes through every error path of the
// integration package (WriteProvisionError after each way a selection can
// fail, and after errors of the proxy's own; the middleware's panic path):
// no body holds an address, "dial", "tcp", an error chain or a file path;
// each says what a client can do and the request ID, and the cause is in
// "errors" with that request ID.
func TestErrorBodiesShowNoInternals(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close() // nothing listens there any more: connection refused

	hang := make(chan struct{})
	defer close(hang)
	cases := []struct {
		name       string
		orch       http.Handler // nil: closedURL
		opts       integration.Options
		retryAfter string
		cause      string // in the errors line's error_message
	}{
		{name: "orchestrator unreachable", retryAfter: "30", cause: "connection refused"},
		{name: "engine list answered 500 with a traceback", orch: orchestratorAnswering(0, "", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, internalBody, http.StatusInternalServerError)
		}), retryAfter: "30", cause: "HTTP 500"},
		{name: "engine list not JSON", orch: orchestratorAnswering(0, "", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `<html>nginx at 10.0.0.7:8000</html>`)
		}), retryAfter: "30", cause: "decoding the answer"},
		{name: "engine list past the client's Timeout", orch: orchestratorAnswering(0, "", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-hang:
			}
		}), opts: integration.Options{HTTPClient: &http.Client{Timeout: time.Millisecond}}, retryAfter: "30", cause: "Timeout"},
		{name: "provisioning blocked beyond the budget", orch: orchestratorAnswering(http.StatusServiceUnavailable, blockedBody, nil),
			retryAfter: "120", cause: "vpn_disconnected"},
		{name: "provisioning blocked, legacy detail", orch: orchestratorAnswering(http.StatusServiceUnavailable, legacyBody, nil),
			retryAfter: "30", cause: "VPN at"},
		{name: "provisioning refused for good", orch: orchestratorAnswering(http.StatusServiceUnavailable, noRetryBody, nil),
			retryAfter: "30", cause: "max_capacity"},
		{name: "provisioning answered 500 with a traceback, retries spent", orch: orchestratorAnswering(http.StatusInternalServerError, internalBody, nil),
			opts: integration.Options{Patience: -1}, retryAfter: "30", cause: "HTTP 500"},
		{name: "provisioning answered 200 without JSON", orch: orchestratorAnswering(http.StatusOK, `/app/engine.sock`, nil),
			retryAfter: "30", cause: "decoding the answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
			require.NoError(t, err)
			defer log.Close()
			orchURL := closedURL
			if tc.orch != nil {
				orch := httptest.NewServer(tc.orch)
				defer orch.Close()
				orchURL = orch.URL
			}
			proxy := proxyThrough(t, log, orchURL, tc.opts)
			resp, err := proxy.Client().Get(proxy.URL + "/ace/getstream?id=x")
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			id := resp.Header.Get("X-Request-ID")
			require.NotEmpty(t, id)

			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			assert.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			assert.Equal(t, "no engine available, retry in "+tc.retryAfter+" s (request ID "+id+")\n", string(body))
			assertNoInternals(t, string(body), tc.name)

			require.NoError(t, log.Flush())
			var causes []string
			for _, m := range readLines(t, log.Path("errors")) {
				if m["request_id"] == id {
					causes = append(causes, m["error_message"].(string))
				}
			}
			require.Len(t, causes, 1, "the cause, once, with the request's ID")
			assert.Contains(t, causes[0], tc.cause)
		})
	}

	t.Run("errors of the proxy's own", func(t *testing.T) {
		old := slog.Default()
		t.Cleanup(func() { slog.SetDefault(old) })
		log, err := slogdebug.Init(slogdebug.Config{Enabled: true, Dir: t.TempDir(), Console: slog.NewTextHandler(io.Discard, nil)})
		require.NoError(t, err)
		defer log.Close()
		refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 8000},
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		for i, err := range []error{
			nil,
			refused,
			fmt.Errorf("engine at [fd00::7]:6878: %w", refused),
			errors.New(`open /etc/proxy/engines.json: no such file or directory`),
			fmt.Errorf("select: %w", &integration.Error{Method: "GET", Path: "/engines", StatusCode: 500, Body: internalBody}),
			fmt.Errorf("select: %w", &integration.Error{Blocked: true, Code: "circuit_breaker", Message: "C:\\orch\\breaker.py: open", RecoveryETASeconds: 45}),
			integration.NoEngineError(refused, 90*time.Second),
		} {
			w := httptest.NewRecorder()
			id := fmt.Sprintf("req-%d", i)
			w.Header().Set("X-Request-ID", id) // as Middleware sets it
			integration.WriteProvisionError(w, err)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.True(t, strings.HasPrefix(w.Body.String(), "no engine available, retry in "), w.Body.String())
			assert.Contains(t, w.Body.String(), "(request ID "+id+")")
			assertNoInternals(t, w.Body.String(), fmt.Sprint(err))
		}
		require.NoError(t, log.Flush())
		logged := map[any]bool{}
		for _, m := range readLines(t, log.Path("errors")) {
			logged[m["request_id"]] = true
			assert.Equal(t, "write_provision_error", m["operation"])
		}
		assert.Len(t, logged, 6, "each cause, with its request ID; nil has none")
	})

	t.Run("the middleware's panic path writes no body", func(t *testing.T) {
		log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
		require.NoError(t, err)
		defer log.Close()
		h := integration.Middleware(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic(fmt.Errorf("dial tcp 10.0.0.7:8000: %w", syscall.ECONNREFUSED))
		}))
		w := httptest.NewRecorder()
		func() {
			defer func() { _ = recover() }() // re-raised for net/http, which closes the connection
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ace/getstream?id=x", nil))
		}()
		assert.Empty(t, w.Body.String())
	})
}
