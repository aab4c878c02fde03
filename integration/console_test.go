package integration_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// consoleLines decodes a JSON console's lines, after Flush has written the
// library's own.
func consoleLines(t *testing.T, log *slogdebug.Logger, console *syncBuffer) []map[string]any {
	t.Helper()
	require.NoError(t, log.Flush())
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(console.String()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	return out
}

// messages are the lines' levels and messages, with the status of an
// orchestrator event.
func messages(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		s := m["level"].(string) + " " + m["msg"].(string)
		if st, ok := m["status"].(string); ok {
			s += " " + st
		}
		out = append(out, s)
	}
	return out
}

// statusTransport is an orchestrator that refuses every call while down,
// else answers its status (healthy unless set) and an empty engine list.
type statusTransport struct {
	switchableTransport
	status atomic.Pointer[string]
}

func (s *statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := s.status.Load()
	if s.down.Load() || st == nil || !strings.HasSuffix(req.URL.Path, "/orchestrator/status") {
		return s.switchableTransport.RoundTrip(req)
	}
	body := `{"status":"` + *st + `","provisioning":{"can_provision":false,"blocked_reason":"VPN is disconnected"}}`
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

func (s *statusTransport) set(status string) { s.status.Store(&status) }

// TestConsoleTellsTheOrchestratorStoryOnce: many requests' calls fail to
// reach the orchestrator, then one reaches it again (no health monitor
// runs): the console has one Warn line when it became unreachable and one
// Info line when it was reached again, not one per call nor per client
// refused. With the health
// monitor, its healthy reading after the outage is the one recovery line;
// a degraded one is one Warn line, and its end one Info line.
func TestConsoleTellsTheOrchestratorStoryOnce(t *testing.T) {
	newClient := func(t *testing.T) (*integration.Client, *slogdebug.Logger, *syncBuffer, *statusTransport) {
		console := &syncBuffer{}
		log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir(), Console: slog.NewJSONHandler(console, nil)}, nil)
		require.NoError(t, err)
		t.Cleanup(func() { log.Close() })
		tr := &statusTransport{}
		c, err := integration.New("http://orchestrator:8000", log, integration.Options{HTTPClient: &http.Client{Transport: tr}})
		require.NoError(t, err)
		return c, log, console, tr
	}
	ctx := context.Background()

	t.Run("requests' calls, no monitor", func(t *testing.T) {
		c, log, console, tr := newClient(t)
		_, err := c.Engines(ctx)
		require.NoError(t, err)
		tr.down.Store(true)
		for range 50 {
			_, err := c.Engines(ctx)
			require.Error(t, err)
		}
		lines := consoleLines(t, log, console)
		require.Equal(t, []string{"INFO debug mode on", "WARN orchestrator_degraded unreachable"}, messages(lines))
		assert.Equal(t, "Orchestrator is unreachable: connection_refused", lines[1]["description"])

		tr.down.Store(false)
		for range 50 {
			_, err := c.Engines(ctx)
			require.NoError(t, err)
		}
		lines = consoleLines(t, log, console)
		require.Equal(t, []string{"INFO debug mode on", "WARN orchestrator_degraded unreachable", "INFO orchestrator_recovered reachable"}, messages(lines))
		assert.Regexp(t, `^Orchestrator is reachable again after \d+\.\ds unreachable$`, lines[2]["description"])

		// The files have the story too: the readings, and the two events.
		var statuses []string
		for _, m := range readLines(t, log.Path("orchestrator_health")) {
			statuses = append(statuses, m["status"].(string))
		}
		require.Len(t, statuses, 51, "50 unreachable readings and one reachable again")
		assert.Equal(t, "reachable", statuses[50])
		reached := readLines(t, log.Path("orchestrator_health"))[50]
		assert.Equal(t, 50.0, reached["failures"], "the calls that had not reached it")
		assert.Equal(t, "GET", reached["method"])
		assert.Equal(t, "http://orchestrator:8000/engines", reached["url"])
	})

	t.Run("clients through the proxy", func(t *testing.T) {
		console := &syncBuffer{}
		log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir(), Console: slog.NewJSONHandler(console, nil)}, nil)
		require.NoError(t, err)
		defer log.Close()
		tr := &statusTransport{}
		proxy := proxyThrough(t, log, "http://orchestrator:8000", integration.Options{HTTPClient: &http.Client{Transport: tr}})
		get := func() int {
			resp, err := proxy.Client().Get(proxy.URL + "/ace/getstream?id=x")
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}
		tr.down.Store(true)
		for range 30 {
			assert.Equal(t, http.StatusServiceUnavailable, get())
		}
		tr.down.Store(false)
		for range 30 {
			assert.Equal(t, http.StatusOK, get())
		}
		assert.Equal(t, []string{"INFO debug mode on", "WARN orchestrator_degraded unreachable", "INFO orchestrator_recovered reachable"},
			messages(consoleLines(t, log, console)), "30 clients refused: one line when it went, one when it came back")
	})

	t.Run("with the health monitor", func(t *testing.T) {
		c, log, console, tr := newClient(t)
		m := c.MonitorHealth(ctx, time.Hour)
		m.Stop()    // its own goroutine's poll at start, made or not: the test polls from here
		m.Poll(ctx) // healthy: the baseline, no line
		require.NotNil(t, m.Last())
		tr.down.Store(true)
		for range 20 {
			_, _ = c.Engines(ctx)
			m.Poll(ctx)
		}
		tr.down.Store(false)
		m.Poll(ctx) // healthy: the one recovery line (no "reachable" before it)
		for range 20 {
			_, err := c.Engines(ctx)
			require.NoError(t, err)
		}
		tr.set("degraded")
		for range 20 {
			m.Poll(ctx)
		}
		tr.set("healthy")
		for range 20 {
			m.Poll(ctx)
		}
		lines := consoleLines(t, log, console)
		require.Equal(t, []string{"INFO debug mode on", "WARN orchestrator_degraded unreachable", "INFO orchestrator_recovered healthy",
			"WARN orchestrator_degraded degraded", "INFO orchestrator_recovered healthy"}, messages(lines))
		assert.Equal(t, "Orchestrator is degraded: VPN is disconnected", lines[3]["description"])
	})
}
