package integration_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/debuglog"
	"github.com/proxydebug/debugmode/internal/tracetool"
	"github.com/proxydebug/debugmode/slogdebug"
)

// waitForRelease is where the slow request's goroutine waits: the
// function its goroutine snapshot must show.
//
//go:noinline
func waitForRelease(entered chan<- struct{}, release <-chan struct{}) {
	close(entered)
	<-release
}

// TestASlowRequestIsCaughtWhereItWaits (issue 23): with DEBUG_GOROUTINES, a
// request blocked on a channel inside a handler behind the middleware is
// caught at the slow threshold, while it waits: the stress line names a
// goroutine snapshot in which a goroutine labelled with the request's ID
// stands in the handler's function, and debuglog request prints it. The
// clock is the test's; the handler waits on a channel the test releases.
func TestASlowRequestIsCaughtWhereItWaits(t *testing.T) {
	clk := integration.NewFakeClock(time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC))
	integration.UseClock(t, clk)
	dir := t.TempDir()
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, Goroutines: true}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	release, done := make(chan struct{}), make(chan struct{}, 2)
	entered := map[string]chan struct{}{"req-blocked": make(chan struct{}), "req-too": make(chan struct{})}
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		waitForRelease(entered[r.Header.Get("X-Request-ID")], release)
		io.WriteString(w, "late")
	}))
	for _, id := range []string{"req-blocked", "req-too"} { // one after the other: the first's watch fires first
		req := httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil)
		req.Header.Set("X-Request-ID", id)
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), req)
			done <- struct{}{}
		}()
		<-entered[id]
	}
	tracetool.WaitParked(t, "integration_test.waitForRelease(", 2)
	clk.Advance(6 * time.Second)    // past the 5s slow threshold, no first byte: the watch takes a snapshot
	require.NoError(t, log.Flush()) // the snapshot is written whole
	close(release)
	<-done
	<-done
	require.NoError(t, log.Flush())

	var name string
	requests := readLines(t, log.Path("requests"))
	require.Len(t, requests, 2)
	for _, m := range requests {
		if m["request_id"] == "req-blocked" {
			name, _ = m["goroutines"].(string)
		} else {
			assert.NotContains(t, m, "goroutines", "one snapshot a minute: the second watch has none of its own")
		}
	}
	require.NotEmpty(t, name, "the request's line names its snapshot")
	assert.Equal(t, log.SessionID()+"_goroutines_001.txt", name)
	var slow []map[string]any
	for _, m := range readLines(t, log.Path("stress")) {
		if m["event_type"] == "slow_request" {
			slow = append(slow, m)
		}
	}
	require.Len(t, slow, 2)
	for _, m := range slow {
		if m["request_id"] == "req-blocked" {
			assert.Equal(t, name, m["goroutines"], "the stress line names it")
		}
		assert.Equal(t, 6000.0, m["ttfb_ms"])
	}

	text, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	var ours string
	for _, entry := range strings.Split(string(text), "\n\n") {
		if strings.Contains(entry, `"request_id":"req-blocked"`) && strings.Contains(entry, "integration_test.waitForRelease") {
			ours = entry
		}
	}
	require.NotEmpty(t, ours, "a goroutine labelled with the request's ID stands in the handler's function:\n%s", text)
	assert.Contains(t, ours, `"route":"/ace/getstream"`)
	assert.Contains(t, ours, "runtime.chanrecv")

	var out, errOut bytes.Buffer
	require.Equal(t, 0, debuglog.Run([]string{"request", "req-blocked", dir}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "goroutines of the request in the snapshot "+filepath.Join(dir, name)+": 1")
	assert.Regexp(t, `1 goroutine \(route /ace/getstream\) waiting on a channel receive, in github\.com/proxydebug/debugmode/integration_test\.waitForRelease \(goroutines_test\.go:\d+\)`, out.String())

	// The second request is in the same snapshot: debuglog finds it there.
	out.Reset()
	require.Equal(t, 0, debuglog.Run([]string{"request", "req-too", dir}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "goroutines of the request in the snapshot "+filepath.Join(dir, name)+": 1")
	assert.Contains(t, out.String(), "waiting on a channel receive, in github.com/proxydebug/debugmode/integration_test.waitForRelease")

	// The report links it from the stress event.
	report := filepath.Join(t.TempDir(), "report.html")
	out.Reset()
	require.Equal(t, 0, debuglog.Run([]string{"report", "-o", report, dir}, &out, &errOut), errOut.String())
	page, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(page), `"g":{`)
	assert.Contains(t, string(page), name)
}
