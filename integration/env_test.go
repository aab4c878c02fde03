package integration_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

// env is a proxy, a fake orchestrator and a fake engine on loopback, with
// debug mode on in a temporary directory.
type env struct {
	log     *slogdebug.Logger
	console *syncBuffer
	orch    *demoproxy.Orchestrator
	client  *integration.Client
	proxy   *httptest.Server
	http    *http.Client // the test's own client
	waits   *waits
}

// waits is the retry policy's Sleep of the env's client: it records each
// wait and returns at once, or calls then (set by a test before it waits).
type waits struct {
	mu   sync.Mutex
	d    []time.Duration
	then func(ctx context.Context) error
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	then := w.then
	w.mu.Unlock()
	if then != nil {
		return then(ctx)
	}
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv makes an env; opts change its client's Options (APIKey, HTTPClient
// and Sleep set).
func newEnv(t *testing.T, cfg slogdebug.Config, opts ...func(*integration.Options)) *env {
	t.Helper()
	transports := []*http.Transport{}
	newClient := func() *http.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		transports = append(transports, tr)
		return &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	engineSrv := httptest.NewServer(demoproxy.Engine{})
	host, portStr, _ := net.SplitHostPort(engineSrv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	orch := demoproxy.NewOrchestrator(host, port)
	orchSrv := httptest.NewServer(orch)

	cfg.Enabled = true
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	console := &syncBuffer{}
	log, err := slogdebug.New(cfg, console)
	require.NoError(t, err)

	w := &waits{}
	o := integration.Options{APIKey: "secret-key", HTTPClient: newClient(), Sleep: w.sleep}
	for _, f := range opts {
		f(&o)
	}
	client, err := integration.New(orchSrv.URL, log, o)
	require.NoError(t, err)
	p := &demoproxy.Proxy{Orch: client, Log: log, EngineClient: newClient()}
	proxySrv := httptest.NewServer(integration.Middleware(log)(p))
	e := &env{log: log, console: console, orch: orch, client: client, proxy: proxySrv, http: newClient(), waits: w}
	t.Cleanup(func() {
		proxySrv.Close()
		orchSrv.Close()
		engineSrv.Close()
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
		log.Close()
	})
	return e
}

// get fetches a proxy path and reads the whole answer.
func (e *env) get(t *testing.T, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.proxy.URL+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	return resp, buf.Bytes()
}

// lines decodes every line of a category's file (none if it does not exist).
func (e *env) lines(t *testing.T, category string) []map[string]any {
	t.Helper()
	require.NoError(t, e.log.Flush())
	return readLines(t, e.log.Path(category))
}

// patience sets Options.Patience: -1 makes every attempt, whatever the
// wait, as the retry policy's own tests want.
func patience(d time.Duration) func(*integration.Options) {
	return func(o *integration.Options) { o.Patience = d }
}

// readLines decodes every line of a file (none if it does not exist).
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "%s: %s", path, sc.Bytes())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

// eventTypes lists the stress events written so far.
func (e *env) eventTypes(t *testing.T) []string {
	var out []string
	for _, m := range e.lines(t, "stress") {
		out = append(out, m["event_type"].(string))
	}
	return out
}
