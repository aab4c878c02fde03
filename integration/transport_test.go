//lint:file-ignore SA1019 the deprecated Request.Cancel is what these tests look at

package integration_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// orchestratorCallURL calls a server at rawURL's path and query, with
// rawURL's user info, through Transport, and returns the url of its
// orchestrator_calls line with the server's address put back as "orch:8000".
func orchestratorCallURL(t *testing.T, rawURL string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, strings.Replace(rawURL, "orch:8000", srv.Listener.Addr().String(), 1), nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: integration.Transport(srv.Client().Transport, log)}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path("orchestrator_calls"))
	require.Len(t, lines, 1)
	return strings.Replace(lines[0]["url"].(string), srv.Listener.Addr().String(), "orch:8000", 1)
}

// TestCallURLIsRedactedAsTheFilesRedact: the url of an orchestrator_calls
// line is redacted as the files redact text, the same way, including
// queries url.ParseQuery rejects.
func TestCallURLIsRedactedAsTheFilesRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"http://user:pass@orch:8000/provision?api_key=abc&x=1": "http://REDACTED@orch:8000/provision?api_key=REDACTED&x=1",
		"http://orch:8000/x?token=S;x=1":                       "http://orch:8000/x?token=REDACTED;x=1",
		"http://orch:8000/x?accessToken=S&keyword=go&signal=1": "http://orch:8000/x?accessToken=REDACTED&keyword=go&signal=1",
		"http://orch:8000/o?X-Amz-Date=1&X-Amz-Signature=S":    "http://orch:8000/o?X-Amz-Date=1&X-Amz-Signature=REDACTED",
		"http://orch:8000/cb#access_token=S&token_type=bearer": "http://orch:8000/cb#access_token=REDACTED&token_type=bearer",
		"http://orch:8000/status":                              "http://orch:8000/status",
	} {
		got := orchestratorCallURL(t, raw)
		assert.Equal(t, want, got, raw)
		assert.Equal(t, redact.Default().RedactText(raw), got, raw)
	}
}

// countingListener counts the connections a server accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// countingServer is a loopback server answering body to every request,
// counting the connections it accepts.
func countingServer(t *testing.T, body string) (*httptest.Server, *countingListener) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, body)
	}))
	l := &countingListener{Listener: srv.Listener}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, l
}

// newTransport is a transport of the test's own, its idle connections
// closed at the end, with Go's default pool (2 idle connections per host).
func newTransport(t *testing.T) *http.Transport {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// get makes n GETs of url through client, one after the other or from
// callers goroutines at once, each with request IDs in its context, and
// reads each answer to its end.
func getN(t *testing.T, client *http.Client, url string, n, callers int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/callers; i++ {
				req, err := http.NewRequestWithContext(reqid.With(context.Background(), reqid.New()), http.MethodGet, url, nil)
				if !assert.NoError(t, err) {
					return
				}
				resp, err := client.Do(req)
				if !assert.NoError(t, err) {
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				assert.NoError(t, err)
				assert.NoError(t, resp.Body.Close())
			}
		}()
	}
	wg.Wait()
}

// clientsWithATimeout are clients with a Timeout over a transport: the
// transport alone, under Transport (debug mode off or on, wrapped twice),
// and made by WrapClient.
func clientsWithATimeout(off, on *slogdebug.Logger) map[string]func(http.RoundTripper) *http.Client {
	withTimeout := func(rt http.RoundTripper) *http.Client { return &http.Client{Timeout: time.Minute, Transport: rt} }
	return map[string]func(http.RoundTripper) *http.Client{
		"plain":          withTimeout,
		"Transport(nil)": func(rt http.RoundTripper) *http.Client { return withTimeout(integration.Transport(rt, nil)) },
		"Transport(off)": func(rt http.RoundTripper) *http.Client { return withTimeout(integration.Transport(rt, off)) },
		"Transport(on)":  func(rt http.RoundTripper) *http.Client { return withTimeout(integration.Transport(rt, on)) },
		"Transport x2": func(rt http.RoundTripper) *http.Client {
			return withTimeout(integration.Transport(integration.Transport(rt, off), on))
		},
		"WrapClient(nil)": func(rt http.RoundTripper) *http.Client { return integration.WrapClient(withTimeout(rt), nil) },
		"WrapClient(on)":  func(rt http.RoundTripper) *http.Client { return integration.WrapClient(withTimeout(rt), on) },
	}
}

// TestTransportReusesConnectionsOfAClientWithATimeout: sequential calls
// through a client with a Timeout open one connection, with or without
// Transport, debug mode off or on, through WrapClient's client and New's.
func TestTransportReusesConnectionsOfAClientWithATimeout(t *testing.T) {
	const calls = 20
	on, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer on.Close()
	off, err := slogdebug.New(slogdebug.Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer off.Close()

	for name, client := range clientsWithATimeout(off, on) {
		t.Run(name, func(t *testing.T) {
			srv, l := countingServer(t, "ok")
			getN(t, client(newTransport(t)), srv.URL, calls, 1)
			assert.Equal(t, int64(1), l.accepted.Load(), "connections for %d sequential calls", calls)
		})
	}

	t.Run("New", func(t *testing.T) {
		for name, hc := range map[string]*http.Client{
			"own client":     {Timeout: time.Minute, Transport: newTransport(t)},
			"default client": nil, // http.DefaultTransport, 30s
		} {
			srv, l := countingServer(t, "[]")
			c, err := integration.New(srv.URL, on, integration.Options{HTTPClient: hc})
			require.NoError(t, err)
			for i := 0; i < calls; i++ {
				_, err := c.Engines(context.Background())
				require.NoError(t, err)
			}
			assert.Equal(t, int64(1), l.accepted.Load(), "%s: connections for %d sequential calls", name, calls)
		}
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	})
}

// TestTransportConnectionsOfConcurrentCallers: callers at once over Go's
// default idle pool (2 per host) through a client with a Timeout. A wrapper
// that passes on the Request.Cancel set by such a client opened 10 to 100
// times the connections of the bare transport on Go >= 1.23 (see outgoing);
// Transport and WrapClient open about as many. The counts depend on scheduling, one
// processor making them steadier, and the bound is loose: it tells 10 times
// from about as many.
func TestTransportConnectionsOfConcurrentCallers(t *testing.T) {
	const calls, callers = 2000, 8
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	count := func(client func(http.RoundTripper) *http.Client) int64 {
		srv, l := countingServer(t, strings.Repeat("x", 300))
		getN(t, client(newTransport(t)), srv.URL, calls, callers)
		return l.accepted.Load()
	}
	clients := clientsWithATimeout(nil, nil)
	plain := count(clients["plain"])
	for _, name := range []string{"Transport(nil)", "WrapClient(nil)"} {
		wrapped := count(clients[name])
		t.Logf("%d calls from %d callers: %d connections plain, %d through %s", calls, callers, plain, wrapped, name)
		assert.LessOrEqual(t, wrapped, 3*plain+40, name)
	}
}

// recordingTransport keeps the last request it was given.
type recordingTransport struct {
	mu   sync.Mutex
	last *http.Request
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.last = req
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
}

// TestTransportPassesTheTimeoutAsTheDeadline: what reaches the wrapped
// transport from a client with a Timeout is a request whose context has
// the deadline and no Cancel channel (the legacy road's cost, see
// outgoing); a request without a deadline keeps a Cancel of its own, and
// the caller's request is left as it was.
func TestTransportPassesTheTimeoutAsTheDeadline(t *testing.T) {
	rec := &recordingTransport{}
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	client := &http.Client{Timeout: time.Minute, Transport: integration.Transport(rec, log)}
	req, err := http.NewRequestWithContext(reqid.With(context.Background(), reqid.New()), http.MethodGet, "http://orch.invalid/engines", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	sent := rec.last
	assert.Nil(t, sent.Cancel, "no Cancel channel: the deadline carries the Timeout")
	_, ok := sent.Context().Deadline()
	assert.True(t, ok, "the Timeout is the context's deadline")
	assert.Equal(t, "application/json", sent.Header.Get("Accept"))
	assert.NotEmpty(t, sent.Header.Get(reqid.HeaderRequestID))
	assert.NotEmpty(t, sent.Header.Get(reqid.HeaderTraceparent))
	assert.Empty(t, req.Header.Get(reqid.HeaderRequestID), "the caller's request is not changed")
	assert.Len(t, req.Header, 1)

	own := make(chan struct{})
	req, err = http.NewRequest(http.MethodGet, "http://orch.invalid/engines", nil)
	require.NoError(t, err)
	req.Cancel = own
	resp, err = (&http.Client{Transport: integration.Transport(rec, nil)}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, (<-chan struct{})(own), rec.last.Cancel, "without a deadline, a Cancel of the caller's is kept")
}

// TestTransportKeepsTheClientTimeout: a server that does not answer makes
// a call through Transport fail with the client's Timeout, as it does
// without, through WrapClient's client with its Timeout, and New's calls
// with Options.HTTPClient's.
func TestTransportKeepsTheClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := newTransport(t)

	var ne net.Error
	for name, client := range map[string]*http.Client{
		"Transport":  {Timeout: 50 * time.Millisecond, Transport: integration.Transport(tr, nil)},
		"WrapClient": integration.WrapClient(&http.Client{Timeout: 50 * time.Millisecond, Transport: tr}, nil),
	} {
		_, err := client.Get(srv.URL)
		require.Error(t, err, name)
		require.ErrorAs(t, err, &ne, name)
		assert.True(t, ne.Timeout(), "%s: a timeout: %v", name, err)
	}
	_, err := integration.WrapClient(&http.Client{Timeout: 50 * time.Millisecond, Transport: tr}, nil).Get(srv.URL)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "no complete answer within the client's Timeout (50ms)")

	c, err := integration.New(srv.URL, nil, integration.Options{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond, Transport: tr}})
	require.NoError(t, err)
	_, err = c.Engines(context.Background())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "no complete answer within the HTTP client's Timeout (50ms")
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Engines(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "Timeout", "the caller's own cancellation is not the Timeout")
}

// TestWrapClientBoundsTheBodyToo: WrapClient's Timeout bounds reading the
// answer, as http.Client's does: a body that stalls fails as a timeout.
func TestWrapClientBoundsTheBodyToo(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first part")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	client := integration.WrapClient(&http.Client{Timeout: 50 * time.Millisecond, Transport: newTransport(t)}, nil)
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout(), "a timeout: %v", err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestWrapClientPassesItsTimeoutAsTheDeadline: WrapClient's client has no
// Timeout of its own; each request reaches the transport with a deadline
// (the caller's when it is sooner) and no Cancel, and the deadline's timer
// ends with the answer's body. Wrapping again keeps the Timeout.
func TestWrapClientPassesItsTimeoutAsTheDeadline(t *testing.T) {
	rec := &recordingTransport{}
	client := integration.WrapClient(&http.Client{Timeout: time.Hour, Transport: rec}, nil)
	assert.Zero(t, client.Timeout, "the Timeout is the transport's now")
	before := time.Now()
	resp, err := client.Get("http://orch.invalid/engines")
	require.NoError(t, err)
	sent := rec.last
	assert.Nil(t, sent.Cancel)
	deadline, ok := sent.Context().Deadline()
	require.True(t, ok)
	assert.WithinRange(t, deadline, before.Add(time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, sent.Context().Err())
	resp.Body.Close()
	assert.ErrorIs(t, sent.Context().Err(), context.Canceled, "the deadline's timer ends with the body")

	soon, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(soon, http.MethodGet, "http://orch.invalid/engines", nil)
	require.NoError(t, err)
	resp, err = integration.WrapClient(client, nil).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	callerDeadline, _ := soon.Deadline()
	deadline, _ = rec.last.Context().Deadline()
	assert.Equal(t, callerDeadline, deadline, "the caller's sooner deadline stands")

	again := integration.WrapClient(client, nil)
	resp, err = again.Get("http://orch.invalid/engines")
	require.NoError(t, err)
	resp.Body.Close()
	_, ok = rec.last.Context().Deadline()
	assert.True(t, ok, "wrapped again, the Timeout is kept")

	assert.NotNil(t, integration.WrapClient(nil, nil).Transport, "nil: a client like http.DefaultClient")
}

// idleCloser counts CloseIdleConnections calls.
type idleCloser struct {
	recordingTransport
	closed atomic.Int64
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

// TestClientCloseIdleConnectionsReachesTheTransport: http.Client's
// CloseIdleConnections reaches the transport under Transport.
func TestClientCloseIdleConnectionsReachesTheTransport(t *testing.T) {
	base := &idleCloser{}
	integration.WrapClient(&http.Client{Transport: base}, nil).CloseIdleConnections()
	(&http.Client{Transport: integration.Transport(base, nil)}).CloseIdleConnections()
	assert.Equal(t, int64(2), base.closed.Load())
	(&http.Client{Transport: integration.Transport(&recordingTransport{}, nil)}).CloseIdleConnections() // none: nothing to do
}

// TestWrapClientSurvivesABrokenTransport: a base that answers nothing, or
// an answer without a body, is http.Client's to report or mend, not a panic.
func TestWrapClientSurvivesABrokenTransport(t *testing.T) {
	for name, rt := range map[string]roundTripFunc{
		"no answer": func(*http.Request) (*http.Response, error) { return nil, nil },
		"no body": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Request: r}, nil
		},
	} {
		client := integration.WrapClient(&http.Client{Timeout: time.Minute, Transport: rt}, nil)
		resp, err := client.Get("http://orch.invalid/engines")
		if name == "no answer" {
			require.Error(t, err, name)
			continue
		}
		require.NoError(t, err, name)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Empty(t, b)
		resp.Body.Close()
	}
}

// TestTransportForwardsTheIDsWhileDebugRecordsAreKept: the request IDs go
// along with debug mode on (or the flight recorder keeping records), where
// they pair the two systems' lines; with debug mode off the call goes as
// it came.
func TestTransportForwardsTheIDsWhileDebugRecordsAreKept(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  slogdebug.Config
		ids  bool
	}{
		{"off", slogdebug.Config{}, false},
		{"on", slogdebug.Config{Enabled: true}, true},
		{"flight recorder", slogdebug.Config{FlightRecorder: time.Minute}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Dir = t.TempDir()
			log, err := slogdebug.New(tc.cfg, io.Discard)
			require.NoError(t, err)
			defer log.Close()
			rec := &recordingTransport{}
			req, err := http.NewRequestWithContext(reqid.With(context.Background(), reqid.New()), http.MethodGet, "http://orch.invalid/engines", nil)
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: integration.Transport(rec, log)}).Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.ids, rec.last.Header.Get(reqid.HeaderRequestID) != "")
			assert.Equal(t, tc.ids, rec.last.Header.Get(reqid.HeaderTraceparent) != "")
			assert.Equal(t, !tc.ids, rec.last == req, "off, the caller's own request goes")
		})
	}
}
