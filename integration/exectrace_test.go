//go:build go1.25

package integration_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/tracetool"
	"github.com/proxydebug/debugmode/slogdebug"
)

// TestSlowRequestIsFoundInItsExecutionTrace makes a request slow through
// the middleware (its handler waits for the test; every request counts as
// slow above 1ns), finds execution_trace on its slow_request line, reads
// the snapshot with `go tool trace -d=parsed` and finds the request in it
// by its ID: its task, its request_id log, and what it logged.
func TestSlowRequestIsFoundInItsExecutionTrace(t *testing.T) {
	if _, err := tracetool.GoCommand(); err != nil {
		t.Skipf("cannot read the trace: %v", err)
	}
	dir := t.TempDir()
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, ExecutionTrace: 10 * time.Second,
		SlowThresholds: map[string]time.Duration{"requests": time.Nanosecond}}, io.Discard)
	require.NoError(t, err)
	defer log.Close()

	started, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.With("category", "upstream").DebugContext(r.Context(), "waiting for the engine")
		close(started)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	srv := httptest.NewServer(integration.Middleware(log)(slow))
	defer srv.Close()

	const id = "req-slow-trace-1"
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/ace/getstream?id=abc", nil)
		if err != nil {
			done <- err
			return
		}
		req.Header.Set("X-Request-ID", id)
		resp, err := srv.Client().Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	<-started
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, log.Close()) // the snapshot is written by then

	var line map[string]any
	for _, m := range readLines(t, log.Path("stress")) {
		if m["event_type"] == "slow_request" && m["request_id"] == id {
			line = m
		}
	}
	require.NotNil(t, line, "the request's slow_request line")
	name, _ := line["execution_trace"].(string)
	require.Equal(t, log.SessionID()+"_execution_trace_001.trace", name)

	parsed, err := tracetool.Parsed(filepath.Join(dir, name))
	require.NoError(t, err)
	// The request's ID, logged in its task (a parsed trace is megabytes:
	// only its user events are shown on failure).
	var userEvents []string
	for _, l := range strings.Split(parsed, "\n") {
		if strings.Contains(l, " Log ") || strings.Contains(l, " TaskBegin ") {
			userEvents = append(userEvents, l)
		}
	}
	task := regexp.MustCompile(`Log Time=\d+ Task=(\d+) Category="request_id" Message="` + id + `"`).FindStringSubmatch(parsed)
	require.NotNil(t, task, "the request's ID in its task; the trace's user events:\n%s", strings.Join(userEvents, "\n"))
	assert.True(t, regexp.MustCompile(`TaskBegin Time=\d+ ID=`+task[1]+` Parent=\d+ Type="request"`).MatchString(parsed), "its task, of type request")
	var logged []string
	for _, l := range userEvents {
		if strings.Contains(l, " Task="+task[1]+" ") && strings.Contains(l, " Log ") {
			logged = append(logged, l[strings.Index(l, "Category="):])
		}
	}
	assert.Contains(t, logged, `Category="upstream" Message="waiting for the engine request_id=`+id+`"`,
		"what the request logged is in its task")
	assert.Contains(t, logged, `Category="requests" Message="request request_id=`+id+`"`)
}
