package integration_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// TestAddAttrsReachTheRequestsLine: attributes the handler adds (the
// engine it chose), from its goroutine and from one of its own, are on the
// request's requests line after the middleware's own fields; added once the
// line is written, they go nowhere.
func TestAddAttrsReachTheRequestsLine(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	var late func()
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		integration.AddAttrs(r.Context(), slog.String("container_id", "0acef00d0001"), slog.Int("engine_port", 40001))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			integration.AddAttrs(r.Context(), slog.Bool("provisioned", true))
		}()
		wg.Wait()
		integration.AddAttrs(r.Context()) // nothing
		ctx := r.Context()
		late = func() { integration.AddAttrs(ctx, slog.String("late", "x")) }
		_, _ = io.WriteString(w, "stream")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil))
	late() // after the line: dropped, no panic

	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path("requests"))
	require.Len(t, lines, 1)
	line := lines[0]
	assert.Equal(t, "0acef00d0001", line["container_id"])
	assert.Equal(t, float64(40001), line["engine_port"])
	assert.Equal(t, true, line["provisioned"])
	assert.Equal(t, float64(6), line["bytes"], "the middleware's own fields stay")
	assert.Equal(t, "abc", line["ace_id"])
	assert.NotContains(t, line, "late")
}

// TestMiddlewareFollowsTheSwitch: a request that begins with debug mode off
// writes no line (its IDs are given and echoed all the same); once debug
// mode is switched on, the next request writes its line.
func TestMiddlewareFollowsTheSwitch(t *testing.T) {
	log, err := slogdebug.New(slogdebug.Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	var gotIDs bool
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotIDs = reqidOf(r) != ""
		integration.AddAttrs(r.Context(), slog.String("container_id", "c1"))
		_, _ = io.WriteString(w, "ok")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ace/getstream?id=off", nil))
	assert.True(t, gotIDs, "the request has its IDs with debug mode off")
	assert.NotEmpty(t, rec.Header().Get("X-Request-ID"), "and echoes them")

	require.NoError(t, log.SetDebug(true))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/ace/getstream?id=on", nil))
	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path("requests"))
	require.Len(t, lines, 1)
	assert.Equal(t, "on", lines[0]["ace_id"])
	assert.Equal(t, "c1", lines[0]["container_id"])
}

func reqidOf(r *http.Request) string {
	if ids := reqid.From(r.Context()); ids != nil {
		return ids.RequestID
	}
	return ""
}
