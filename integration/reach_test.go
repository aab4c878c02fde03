package integration_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// switchableTransport refuses every call, as a stopped orchestrator does,
// while down; else it answers a healthy status.
type switchableTransport struct{ down atomic.Bool }

func (s *switchableTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	body := `{"status":"healthy","provisioning":{"can_provision":true}}`
	if strings.HasSuffix(req.URL.Path, "/engines") {
		body = `[]`
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

// clock is a test's time, moved by hand.
type clock struct{ now atomic.Pointer[time.Time] }

func (c *clock) set(t time.Time) { c.now.Store(&t) }
func (c *clock) get() time.Time  { return *c.now.Load() }

// TestUnreachableOrchestratorIsATypedReading: each call that does not reach
// the orchestrator, the health monitor's poll or a request's, is an
// orchestrator_health line with status unreachable, the method, the URL
// redacted, the error's class and the error (without the URL again), how
// long the orchestrator has not been reached and the calls in a row; an
// answer ends the run.
func TestUnreachableOrchestratorIsATypedReading(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	tr := &switchableTransport{}
	c, err := integration.New("http://proxy:s3cret-pass@orch.invalid:8000", log, integration.Options{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	var clk clock
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	clk.set(t0)
	c.SetNow(clk.get)
	m := c.MonitorHealth(context.Background(), time.Hour)
	m.Stop() // its first poll is made at start; the test polls by hand from here
	ctx := context.Background()

	tr.down.Store(true)
	require.Error(t, m.Poll(ctx).Err)
	clk.set(t0.Add(5 * time.Second))
	reqCtx := reqid.With(ctx, reqid.IDs{RequestID: "req-down-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"})
	_, err = c.Engines(reqCtx)
	require.Error(t, err)
	clk.set(t0.Add(12500 * time.Millisecond))
	require.Error(t, m.Poll(ctx).Err)
	tr.down.Store(false)
	require.NoError(t, m.Poll(ctx).Err)
	tr.down.Store(true)
	clk.set(t0.Add(time.Minute))
	require.Error(t, m.Poll(ctx).Err)

	require.NoError(t, log.Flush())
	var unreachable []map[string]any
	for _, l := range readLines(t, log.Path("orchestrator_health")) {
		if l["status"] == "unreachable" {
			unreachable = append(unreachable, l)
		}
	}
	require.Len(t, unreachable, 4)
	for i, want := range []struct {
		path     string
		downMs   float64
		failures float64
	}{{"/orchestrator/status", 0, 1}, {"/engines", 5000, 2}, {"/orchestrator/status", 12500, 3}, {"/orchestrator/status", 0, 1}} {
		l := unreachable[i]
		assert.Equal(t, "orchestrator_health", l["msg"])
		assert.Equal(t, "GET", l["method"], i)
		assert.Equal(t, "http://REDACTED@orch.invalid:8000"+want.path, l["url"], i)
		assert.Equal(t, "connection_refused", l["error_class"], i)
		assert.Equal(t, "dial tcp: connect: connection refused", l["error"], i)
		assert.Equal(t, want.downMs, l["unreachable_for_ms"], i)
		assert.Equal(t, want.failures, l["failures"], i)
	}
	assert.Equal(t, "req-down-1", unreachable[1]["request_id"], "a request's call carries its IDs")
	data, err := os.ReadFile(log.Path("orchestrator_health"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "s3cret-pass")
}

// TestCallsTheCallerGaveUpOnAreNoReading: a call whose caller's context was
// done did not find the orchestrator unreachable: no line.
func TestCallsTheCallerGaveUpOnAreNoReading(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	tr := &switchableTransport{}
	tr.down.Store(true)
	c, err := integration.New("http://orch.invalid:8000", log, integration.Options{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Engines(ctx)
	require.Error(t, err)
	require.NoError(t, log.Flush())
	assert.Empty(t, readLines(t, log.Path("orchestrator_health")))
}

// TestErrorClass: how a call that did not reach the orchestrator is named.
func TestErrorClass(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "http://orch:8000/engines", Err: err} }
	for want, err := range map[string]error{
		"connection_refused": wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}),
		"dns_error":          wrap(&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "orch", IsNotFound: true}}),
		"timeout":            wrap(context.DeadlineExceeded),
		"tls_error":          wrap(x509.UnknownAuthorityError{}),
		"connection_reset":   wrap(io.EOF),
		"host_unreachable":   wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}),
		"network_error":      wrap(errors.New("proxyconnect: something odd")),
	} {
		assert.Equal(t, want, integration.ErrorClass(err), "%v", err)
	}
	// Errors that lost their chain are read by their words.
	for want, text := range map[string]string{
		"connection_refused": "dial tcp 127.0.0.1:1: connectex: No connection could be made because the target machine actively refused it.",
		"dns_error":          "dial tcp: lookup orch: no such host",
		"tls_error":          "tls: failed to verify certificate",
		"connection_reset":   "read: connection reset by peer",
	} {
		assert.Equal(t, want, integration.ErrorClass(fmt.Errorf("%v", errors.New(text))), text)
	}
}

// backoffLines are the provision_backoff lines written so far.
func backoffLines(t *testing.T, log *slogdebug.Logger) []map[string]any {
	t.Helper()
	require.NoError(t, log.Flush())
	var out []map[string]any
	for _, l := range readLines(t, log.Path("provisioning")) {
		if l["operation"] == "provision_backoff" {
			out = append(out, l)
		}
	}
	return out
}

// TestProvisioningBackoffIsATypedLine: each wait between provisioning
// attempts is a provisioning line with the attempt, the next and the most,
// the wait and where it came from, and the orchestrator's reason and ETA;
// it has no success or error, so stress detection counts the attempts'
// lines alone.
func TestProvisioningBackoffIsATypedLine(t *testing.T) {
	t.Run("circuit breaker with an ETA", func(t *testing.T) {
		e := newEnv(t, slogdebug.Config{StressCooldown: -1}, patience(-1))
		e.orch.SetCircuitBreaker(true, 40)
		_, err := e.client.ProvisionWithRetry(context.Background())
		require.Error(t, err)
		lines := backoffLines(t, e.log)
		require.Len(t, lines, 2)
		for i, wait := range []float64{20000, 40000} {
			l := lines[i]
			assert.Equal(t, "provisioning", l["msg"])
			assert.Equal(t, float64(i+1), l["attempt"])
			assert.Equal(t, float64(i+1), l["retry_count"])
			assert.Equal(t, float64(i+2), l["next_attempt"])
			assert.Equal(t, 3.0, l["max_attempts"])
			assert.Equal(t, wait, l["wait_ms"])
			assert.Equal(t, "recovery_eta", l["wait_from"])
			assert.Equal(t, "circuit_breaker", l["reason"])
			assert.Equal(t, 40.0, l["recovery_eta_seconds"])
			assert.NotEmpty(t, l["detailed_reason"])
			assert.NotContains(t, l, "success")
			assert.NotContains(t, l, "error")
			assert.Equal(t, "retry", l["decision"])
			assert.Equal(t, "eta 40s, no budget (Options.Patience negative)", l["decision_reason"])
		}
	})
	t.Run("VPN down, an older orchestrator without an ETA", func(t *testing.T) {
		e := newEnv(t, slogdebug.Config{}, patience(-1))
		e.orch.SetLegacyErrors(true)
		e.orch.SetVPNDown(true)
		_, err := e.client.ProvisionWithRetry(context.Background())
		require.Error(t, err)
		lines := backoffLines(t, e.log)
		require.Len(t, lines, 2)
		assert.Equal(t, "vpn_disconnected", lines[0]["reason"])
		assert.Equal(t, "backoff", lines[0]["wait_from"])
		assert.Equal(t, 30000.0, lines[0]["wait_ms"])
		assert.Equal(t, 60000.0, lines[1]["wait_ms"])
		assert.NotContains(t, lines[0], "recovery_eta_seconds")
	})
	t.Run("another answer, and no answer", func(t *testing.T) {
		log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
		require.NoError(t, err)
		defer log.Close()
		var calls atomic.Int64
		tr := &switchableTransport{}
		failing := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if calls.Add(1) == 1 {
				return &http.Response{StatusCode: http.StatusInternalServerError, Body: io.NopCloser(strings.NewReader("boom")), Request: req}, nil
			}
			tr.down.Store(true)
			return tr.RoundTrip(req)
		})
		noWait := func(context.Context, time.Duration) error { return nil }
		c, err := integration.New("http://orch.invalid:8000", log, integration.Options{HTTPClient: &http.Client{Transport: failing}, Sleep: noWait, Patience: -1})
		require.NoError(t, err)
		_, err = c.ProvisionWithRetry(context.Background())
		require.Error(t, err)
		lines := backoffLines(t, log)
		require.Len(t, lines, 2)
		assert.Equal(t, "http_500", lines[0]["reason"])
		assert.Contains(t, lines[0]["detailed_reason"], "HTTP 500: boom")
		assert.Equal(t, "connection_refused", lines[1]["reason"])
		assert.Equal(t, "dial tcp: connect: connection refused", lines[1]["detailed_reason"])
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
