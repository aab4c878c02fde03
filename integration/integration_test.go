package integration_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

func TestOneRequestsLinePerRequest(t *testing.T) {
	e := newEnv(t, slogdebug.Config{})
	cases := []struct {
		path   string
		status int
		aceID  string
	}{
		{"/ace/getstream?id=aaa111", 200, "aaa111"},
		{"/ace/getstream?infohash=bbb222", 200, "bbb222"},
		{"/ace/getstream?id=ccc333&size=1000", 200, "ccc333"},
		{"/ace/getstream", 400, ""},
		{"/ace/getstream?id=x&infohash=y", 400, "x"},
		{"/nowhere", 404, ""},
		{"/ace/status", 200, ""},
	}
	for _, c := range cases {
		resp, body := e.get(t, c.path, nil)
		require.Equal(t, c.status, resp.StatusCode, c.path)
		if c.status == 200 && strings.Contains(c.path, "getstream") {
			assert.NotEmpty(t, body)
		}
	}
	lines := e.lines(t, "requests")
	require.Len(t, lines, len(cases))
	for i, c := range cases {
		m := lines[i]
		assert.Equal(t, float64(c.status), m["status_code"], c.path)
		assert.Equal(t, c.aceID, m["ace_id"], c.path)
		assert.Equal(t, "GET", m["method"])
		assert.Equal(t, strings.SplitN(c.path, "?", 2)[0], m["path"])
		assert.Greater(t, m["duration_ms"], 0.0)
		assert.NotEmpty(t, m["request_id"])
	}
	assert.Equal(t, float64(256<<10), lines[0]["bytes"])
	assert.Equal(t, float64(1000), lines[2]["bytes"])
}

func TestRequestIDReachesEveryCategoryAndTheOrchestrator(t *testing.T) {
	e := newEnv(t, slogdebug.Config{OrchestratorCalls: true})
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, _ := e.get(t, "/ace/getstream?id=abc", http.Header{"X-Request-Id": {"req-e2e-1"}, "Traceparent": {traceparent}})
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "req-e2e-1", resp.Header.Get("X-Request-ID"), "echoed")
	resp2, _ := e.get(t, "/ace/getstream?id=def", nil)
	other := resp2.Header.Get("X-Request-ID")
	require.NotEmpty(t, other, "made when absent")
	require.NotEqual(t, "req-e2e-1", other)

	seen := map[string]int{}
	for _, cat := range []string{"requests", "engine_selection", "provisioning", "streams", "orchestrator_calls"} {
		for _, m := range e.lines(t, cat) {
			if m["request_id"] == "req-e2e-1" {
				seen[cat]++
				if cat == "requests" {
					assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", m["trace_id"], "the request's line has its trace")
					assert.Regexp(t, "^[0-9a-f]{16}$", m["span_id"])
				} else {
					assert.NotContains(t, m, "trace_id", "%s: the other lines join the request by request_id", cat)
				}
			} else {
				assert.Equal(t, other, m["request_id"], "%s: every line belongs to one of the two requests", cat)
			}
		}
	}
	for _, cat := range []string{"requests", "engine_selection", "provisioning", "streams", "orchestrator_calls"} {
		assert.Positive(t, seen[cat], "request_id in %s", cat)
	}

	var ours int
	for _, r := range e.orch.Received() {
		if r.RequestID == "req-e2e-1" {
			ours++
			tp := reqid.FromHeaders("", r.Traceparent) // continues a valid traceparent's trace, with its span as parent
			require.NotEmpty(t, tp.ParentID, r.Traceparent)
			assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", tp.TraceID, "the trace goes on to the orchestrator")
			assert.NotEqual(t, "00f067aa0ba902b7", tp.ParentID, "with the proxy's span as parent")
		} else {
			assert.Equal(t, other, r.RequestID)
		}
	}
	// engines, provision, stream_started, stream_ended (status polls have their own IDs)
	assert.GreaterOrEqual(t, ours, 4)
}

func TestFlushedStreamReachesTheClientBeforeTheHandlerReturns(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	clientGotIt := make(chan struct{})
	handlerDone := make(chan struct{})
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		w.Write([]byte("first chunk\n"))
		w.(http.Flusher).Flush()
		select {
		case <-clientGotIt:
		case <-time.After(time.Minute):
			t.Error("the flushed chunk never reached the client")
			return
		}
		rc := http.NewResponseController(w)
		require.NoError(t, rc.SetWriteDeadline(time.Now().Add(time.Minute)), "ResponseController reaches the server's writer")
		w.Write([]byte("second chunk\n"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/stream?id=abc")
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first chunk\n", line)
	select {
	case <-handlerDone:
		t.Fatal("the handler returned before the client read the first chunk")
	default:
	}
	close(clientGotIt)
	line, err = br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "second chunk\n", line)
	<-handlerDone
}

func TestWrappedWriterKeepsHijackAndReadFrom(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	mw := integration.Middleware(log)
	mux := http.NewServeMux()
	mux.Handle("/hijack", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		rw.Flush()
	})))
	mux.Handle("/readfrom", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader(strings.Repeat("x", 5000)))
		assert.NoError(t, err)
		assert.Equal(t, int64(5000), n)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for path, want := range map[string]string{"/hijack": "hijacked", "/readfrom": strings.Repeat("x", 5000)} {
		resp, err := c.Get(srv.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, want, string(body), path)
	}
	require.NoError(t, log.Flush())
}

func TestClientDisconnectIsLogged(t *testing.T) {
	e := newEnv(t, slogdebug.Config{})
	// A slow, long stream: read a little, then hang up.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.proxy.URL+"/ace/getstream?id=leaver&size=100000000&chunk=4096&delay=10ms", nil)
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	buf := make([]byte, 8192)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	cancel()
	resp.Body.Close()

	// The proxy notices, ends the stream and reports it; then the
	// middleware, once the handler has returned, writes the request's line,
	// which tells how its stream ended.
	require.Eventually(t, func() bool { return len(e.lines(t, "requests")) > 0 }, time.Minute, 20*time.Millisecond,
		"the proxy notices the hang-up, ends the stream and logs the request")
	// One line for the request and its disconnect, with what the stream
	// copier knows (stream, reason in words, side) and what the middleware
	// knows (method, path, status, bytes).
	requests := e.lines(t, "requests")
	require.Len(t, requests, 1)
	m := requests[0]
	assert.Equal(t, "leaver", m["ace_id"])
	assert.Equal(t, "client_disconnected", m["reason"])
	// Which the proxy notices first, the canceled request or a failed write,
	// is a matter of timing.
	assert.Contains(t, []string{"the client's request was canceled: it went away", "the client closed the connection (broken pipe)",
		"the connection was reset by the peer"}, m["detailed_reason"])
	assert.NotEmpty(t, m["stream_error"])
	assert.NotContains(t, m, "error", "the request was answered: its stream's end is no failed request")
	assert.Equal(t, "client", m["side"])
	assert.True(t, strings.HasPrefix(m["stream_id"].(string), "leaver|"), m["stream_id"])
	assert.GreaterOrEqual(t, m["bytes"], 8192.0)
	assert.Equal(t, "GET", m["method"])
	assert.Equal(t, 200.0, m["status_code"])
	assert.NotEmpty(t, m["container_id"], "the stream's own attributes")
	assert.Equal(t, true, m["reported"], "the end reported to the orchestrator")
	assert.Contains(t, m, "report_ms")
	assert.Empty(t, e.lines(t, "disconnects"), "no second line for the same end")
	assert.Empty(t, ofType(e.lines(t, "streams"), "stream_ended"), "no third")
	assert.Len(t, ofType(e.lines(t, "streams"), "stream_started"), 1)
}

func TestCompletedStreamIsOneLine(t *testing.T) {
	e := newEnv(t, slogdebug.Config{})
	resp, body := e.get(t, "/ace/getstream?id=whole&size=5000", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, body, 5000)
	lines := e.lines(t, "requests")
	require.Len(t, lines, 1)
	assert.Equal(t, "completed", lines[0]["reason"])
	assert.Equal(t, "engine", lines[0]["side"])
	assert.Equal(t, 5000.0, lines[0]["bytes"])
	assert.NotContains(t, lines[0], "stream_error")
	assert.NotContains(t, lines[0], "detailed_reason", "completed says it")
	assert.Equal(t, "/ace/getstream", lines[0]["path"])
	assert.Empty(t, e.lines(t, "disconnects"))
}

func TestMiddlewareSkipsPaths(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	h := integration.Middleware(log, "/ace/status")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	for _, path := range []string{"/ace/status", "/ace/status", "/ace/getstream"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, "ok", w.Body.String())
		assert.Equal(t, path != "/ace/status", w.Header().Get(reqid.HeaderRequestID) != "", path)
	}
	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path("requests"))
	require.Len(t, lines, 1, "health probes are not logged")
	assert.Equal(t, "/ace/getstream", lines[0]["path"])
}

// TestLogStreamEndWithACopierOfYourOwn: a proxy that copies streams itself
// reports their end with LogStreamEnd: inside the middleware on the
// request's line, outside it on a disconnects line.
func TestLogStreamEndWithACopierOfYourOwn(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	res := integration.StreamResult{Stream: integration.Stream{ID: "abc|1", AceID: "abc", Attrs: []slog.Attr{slog.String("engine_host", "10.0.0.5")}},
		Bytes: 1 << 20, Duration: time.Second, Err: syscall.EPIPE, Side: "client"}
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		integration.LogStreamEnd(r.Context(), log, res)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil))
	integration.LogStreamEnd(context.Background(), log, res) // no middleware
	require.NoError(t, log.Flush())
	requests, disconnects := readLines(t, log.Path("requests")), readLines(t, log.Path("disconnects"))
	require.Len(t, requests, 1)
	require.Len(t, disconnects, 1)
	for i, m := range []map[string]any{requests[0], disconnects[0]} {
		assert.Equal(t, "abc|1", m["stream_id"])
		assert.Equal(t, "client_disconnected", m["reason"], "classified from the error")
		assert.Equal(t, "the client closed the connection (broken pipe)", m["detailed_reason"])
		assert.Equal(t, "10.0.0.5", m["engine_host"])
		if i == 0 {
			assert.Equal(t, "/ace/getstream", m["path"], "inside the middleware: on the request's line")
			assert.Equal(t, "broken pipe", m["stream_error"])
			assert.NotEmpty(t, m["request_id"])
		} else {
			assert.Equal(t, float64(1<<20), m["bytes_copied"])
			assert.Equal(t, "broken pipe", m["error"])
			assert.NotContains(t, m, "path")
		}
	}
}

func TestNewRefusesABadURL(t *testing.T) {
	for _, u := range []string{"", "orchestrator:8000", "ftp://orchestrator", "http://", "http://user:hunter2@orch:8000/?x=1"} {
		_, err := integration.New(u, nil, integration.Options{})
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "want an http or https URL such as http://orchestrator:8000")
		assert.NotContains(t, err.Error(), "hunter2", "credentials are not repeated")
	}
	c, err := integration.New("http://orchestrator:8000/", nil, integration.Options{APIKey: "k"})
	require.NoError(t, err)
	assert.Equal(t, "http://orchestrator:8000", c.BaseURL())
}

func TestWriteProvisionError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{integration.NoEngineError(errors.New("refused"), 90*time.Second), "90"},
		{integration.NoEngineError(errors.New("refused"), 1500*time.Millisecond), "2"},
		{&integration.Error{Blocked: true, Code: "circuit_breaker", RecoveryETASeconds: 45}, "45"},
		{fmt.Errorf("engine: %w", &integration.Error{Blocked: true, RecoveryETASeconds: 12}), "12"},
		{errors.New("engines unreachable"), "30"},
	} {
		w := httptest.NewRecorder()
		integration.WriteProvisionError(w, tc.err)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.Equal(t, tc.want, w.Header().Get("Retry-After"), tc.err.Error())
		assert.Equal(t, "no engine available, retry in "+tc.want+" s\n", w.Body.String())
	}
	w := httptest.NewRecorder()
	w.Header().Set("X-Request-ID", "4bf92f3577b34da6") // as Middleware sets it
	integration.WriteProvisionError(w, nil)
	assert.Equal(t, "30", w.Header().Get("Retry-After"))
	assert.Equal(t, "no engine available, retry in 30 s (request ID 4bf92f3577b34da6)\n", w.Body.String())
}

func TestTransportIsNotWrappedTwice(t *testing.T) {
	orch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `[]`) }))
	defer orch.Close()
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	hc := &http.Client{Transport: integration.Transport(orch.Client().Transport, log)}
	c, err := integration.New(orch.URL, log, integration.Options{HTTPClient: hc})
	require.NoError(t, err)
	_, err = c.Engines(context.Background())
	require.NoError(t, err)
	require.NoError(t, log.Flush())
	assert.Len(t, readLines(t, log.Path("orchestrator_calls")), 1)
}

func TestProvisioningRetryCircuitBreakerAndRetryAfter(t *testing.T) {
	e := newEnv(t, slogdebug.Config{StressCooldown: -1}, patience(-1))
	e.orch.SetCircuitBreaker(true, 40)
	resp, _ := e.get(t, "/ace/getstream?id=blocked", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "40", resp.Header.Get("Retry-After"))
	assert.Equal(t, []time.Duration{20 * time.Second, 40 * time.Second}, e.waits.all(), "half the ETA, then the ETA")

	var ops []string
	for _, m := range e.lines(t, "provisioning") {
		ops = append(ops, m["operation"].(string))
		if m["operation"] == "provision_attempt_failed" {
			assert.Contains(t, m["error"], "circuit_breaker")
			assert.Equal(t, false, m["success"])
		}
	}
	assert.Equal(t, []string{"provision_attempt_failed", "provision_backoff", "provision_attempt_failed", "provision_backoff",
		"provision_attempt_failed", "provision_failed"}, ops)
	assert.Contains(t, e.eventTypes(t), stressevent.ProvisioningCircuitBreaker)

	e.orch.SetCircuitBreaker(false, 0)
	resp, body := e.get(t, "/ace/getstream?id=unblocked", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, body)
	last := e.lines(t, "provisioning")
	assert.Equal(t, "provision_success", last[len(last)-1]["operation"])
}

func TestLegacyErrorsAndBackoffWithoutETA(t *testing.T) {
	e := newEnv(t, slogdebug.Config{}, patience(-1))
	e.orch.SetLegacyErrors(true)
	e.orch.SetVPNDown(true)
	_, err := e.client.ProvisionWithRetry(context.Background())
	var pe *integration.Error
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Blocked)
	assert.Equal(t, "vpn_disconnected", pe.Code, "read from the legacy string")
	assert.Equal(t, "Provisioning blocked: VPN is disconnected", pe.Message)
	assert.Equal(t, []time.Duration{30 * time.Second, 60 * time.Second}, e.waits.all(), "no ETA: 30s doubling")

	assert.Equal(t, 120*time.Second, integration.Backoff(integration.Options{}, 5, errors.New("x")), "capped")
}

func TestProvisioningStopsWhenTheContextIsDone(t *testing.T) {
	e := newEnv(t, slogdebug.Config{}, patience(-1))
	e.orch.SetCircuitBreaker(true, 60)
	ctx, cancel := context.WithCancel(context.Background())
	e.waits.then = func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	_, err := e.client.ProvisionWithRetry(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up waiting")
	var attempts int
	for _, m := range e.lines(t, "provisioning") {
		if m["operation"] == "provision_attempt_failed" {
			attempts++
		}
	}
	assert.Equal(t, 1, attempts)
}

func TestHealthMonitorAndDegradedTransitions(t *testing.T) {
	e := newEnv(t, slogdebug.Config{StressCooldown: -1})
	e.orch.RemoveEngines()
	m := e.client.MonitorHealth(context.Background(), time.Hour) // polls once at start
	require.Eventually(t, func() bool { return m.Last() != nil }, time.Minute, 5*time.Millisecond, "the first poll, made at start")
	m.Stop()
	ctx := context.Background()
	e.orch.SetCircuitBreaker(true, 30)
	r := m.Poll(ctx)
	require.NoError(t, r.Err)
	assert.Equal(t, "degraded", r.Status.Status)
	e.orch.SetCircuitBreaker(false, 0)
	m.Poll(ctx)

	lines := e.lines(t, "orchestrator_health")
	require.Len(t, lines, 3)
	assert.Equal(t, "healthy", lines[0]["status"])
	// The previous logger's flat capacity fields; the counts the status had.
	assert.Equal(t, 10.0, lines[0]["capacity_total"])
	assert.Equal(t, 0.0, lines[0]["capacity_used"])
	assert.Equal(t, 10.0, lines[0]["capacity_available"])
	assert.Equal(t, 0.0, lines[0]["engine_count"])
	assert.Equal(t, 0.0, lines[0]["stream_count"])
	assert.NotContains(t, lines[0], "capacity")
	assert.NotContains(t, lines[0], "recovery_eta_seconds", "no estimate when nothing is blocked")
	assert.Equal(t, "degraded", lines[1]["status"])
	assert.Equal(t, "circuit_breaker", lines[1]["blocked_reason_code"])
	assert.Equal(t, 30.0, lines[1]["recovery_eta_seconds"])
	assert.Equal(t, false, lines[1]["can_provision"])
	assert.Equal(t, []string{stressevent.OrchestratorDegraded, stressevent.OrchestratorRecovered}, e.eventTypes(t))
}

func TestHealthMonitorReportsAnUnreachableOrchestrator(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c, err := integration.New("http://127.0.0.1:1", log, integration.Options{HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	m := c.MonitorHealth(context.Background(), time.Hour)
	require.Eventually(t, func() bool { return m.Last() != nil }, time.Minute, 5*time.Millisecond, "the first poll, made at start")
	m.Stop()
	require.Error(t, m.Last().Err)
	require.NoError(t, log.Flush())
	assert.FileExists(t, log.Path("errors"))
	health := readLines(t, log.Path("orchestrator_health"))
	require.Len(t, health, 1)
	assert.Equal(t, "unreachable", health[0]["status"])
	assert.Contains(t, health[0]["error"], "connection refused")
	for _, k := range []string{"can_provision", "vpn_connected", "capacity_total", "engine_count"} {
		assert.NotContains(t, health[0], k, "unknown when the orchestrator cannot be reached")
	}
}

// TestHealthLeavesOutWhatTheStatusDoesNotHave: an orchestrator whose status
// has no engines, streams or capacity (an older one) gets no 0 for them.
func TestHealthLeavesOutWhatTheStatusDoesNotHave(t *testing.T) {
	orch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"healthy","vpn":{"enabled":true,"connected":true},"provisioning":{"can_provision":true}}`)
	}))
	defer orch.Close()
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	c, err := integration.New(orch.URL, log, integration.Options{HTTPClient: orch.Client()})
	require.NoError(t, err)
	m := c.MonitorHealth(context.Background(), time.Hour)
	require.Eventually(t, func() bool { return m.Last() != nil }, time.Minute, 5*time.Millisecond, "the first poll, made at start")
	m.Stop()
	require.NoError(t, m.Last().Err)
	require.NoError(t, log.Flush())
	health := readLines(t, log.Path("orchestrator_health"))
	require.Len(t, health, 1)
	for _, k := range []string{"capacity_total", "capacity_used", "capacity_available", "engine_count", "stream_count", "recovery_eta_seconds"} {
		assert.NotContains(t, health[0], k)
	}
	assert.Equal(t, true, health[0]["vpn_connected"])
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("http://user:pass@orch:8000/provision?api_key=abc&x=1&Token=t&engine_secret=s")
	got := orchestratorCallURL(t, u.String())
	assert.NotContains(t, got, "pass")
	assert.NotContains(t, got, "abc")
	assert.NotContains(t, got, "=t")
	assert.NotContains(t, got, "=s&")
	assert.Contains(t, got, "x=1")
	assert.Contains(t, got, "api_key=REDACTED")
}

func TestClassify(t *testing.T) {
	for err, want := range map[error]string{
		nil:                      "completed",
		io.EOF:                   "completed",
		io.ErrUnexpectedEOF:      "eof",
		io.ErrClosedPipe:         "closed_pipe",
		net.ErrClosed:            "closed_pipe",
		context.Canceled:         "client_disconnected",
		context.DeadlineExceeded: "timeout",
		http.ErrHandlerTimeout:   "timeout",
		errors.New("other"):      "network_error",
		// A client that hangs up: the write fails with EPIPE or ECONNRESET
		// depending on timing alone. One cause, one reason.
		syscall.EPIPE:        "client_disconnected",
		syscall.ECONNRESET:   "client_disconnected",
		syscall.ECONNABORTED: "client_disconnected",
		&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}:      "client_disconnected",
		&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}: "client_disconnected",
		// Errors that lost their chain (%v), known by their text.
		fmt.Errorf("copy: %v", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}): "client_disconnected",
		errors.New("read tcp 10.0.0.2:4512->10.0.0.5:6878: read: connection reset by peer"):                            "client_disconnected",
		errors.New("read tcp 10.0.0.2:4512->10.0.0.5:6878: i/o timeout"):                                               "timeout",
		errors.New("engine: stream empty timeout"):                                                                     "timeout",
		errors.New("write tcp 10.0.0.2:80->10.0.0.9:5100: use of closed network connection"):                           "closed_pipe",
		fmt.Errorf("engine stream: %v", io.ErrUnexpectedEOF):                                                           "eof",
	} {
		assert.Equal(t, want, integration.Classify(err), "%v", err)
	}
}

// TestStreamEndWithoutASideLeavesItOut: a proxy's own copier that does not
// know which side ended the stream gets no "side" field, not an empty one.
func TestStreamEndWithoutASideLeavesItOut(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	ctx := context.Background()
	integration.LogStreamEnd(ctx, log, integration.StreamResult{Stream: integration.Stream{ID: "s1", AceID: "a"}, Reason: "empty_timeout", Detail: "no data for 30s"})
	integration.LogStreamEnd(ctx, log, integration.StreamResult{Stream: integration.Stream{ID: "s2", AceID: "a"}, Side: "client"})
	require.NoError(t, log.Close())
	lines := readLines(t, log.Path("disconnects"))
	require.Len(t, lines, 2)
	assert.NotContains(t, lines[0], "side")
	assert.Equal(t, "empty_timeout", lines[0]["reason"], "the proxy's own reason is kept")
	assert.Equal(t, "no data for 30s", lines[0]["detailed_reason"])
	assert.Equal(t, "client", lines[1]["side"])
}

// TestTheRequestLineHasEachKeyOnce: an attribute the handler adds with
// AddAttrs under a key its stream's attributes have too is written once,
// AddAttrs' value.
func TestTheRequestLineHasEachKeyOnce(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		integration.AddAttrs(r.Context(), slog.String("container_id", "chosen"))
		integration.LogStreamEnd(r.Context(), log, integration.StreamResult{Stream: integration.Stream{ID: "abc|1", AceID: "abc",
			Attrs: []slog.Attr{slog.String("container_id", "streamed"), slog.String("engine_host", "10.0.0.5")}}})
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil))
	require.NoError(t, log.Flush())
	raw, err := os.ReadFile(log.Path("requests"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(raw), `"container_id"`), "%s", raw)
	lines := readLines(t, log.Path("requests"))
	require.Len(t, lines, 1)
	assert.Equal(t, "chosen", lines[0]["container_id"])
	assert.Equal(t, "10.0.0.5", lines[0]["engine_host"])
}
