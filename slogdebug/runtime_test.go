package slogdebug

import (
	"bytes"
	"context"
	"encoding/json"
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
)

func TestSetDebugAtRunTime(t *testing.T) {
	dir := t.TempDir()
	var console bytes.Buffer
	l, err := New(Config{Dir: dir}, &console)
	require.NoError(t, err)
	defer l.Close()
	provisioning := l.With("category", "provisioning") // derived before the switch
	ctx := context.Background()

	l.LogRequest(ctx, "GET", "/off", time.Millisecond, 200, "")
	provisioning.Debug("while off")
	assert.Equal(t, "", l.SessionID())

	require.NoError(t, l.SetDebug(true))
	assert.True(t, l.DebugMode())
	session := l.SessionID()
	require.NotEmpty(t, session)
	l.LogRequest(ctx, "GET", "/on", time.Millisecond, 200, "")
	provisioning.Debug("while on")
	require.NoError(t, l.SetDebug(false))
	l.LogRequest(ctx, "GET", "/off-again", time.Millisecond, 200, "")
	provisioning.Debug("off again")

	require.NoError(t, l.SetDebug(true))
	assert.Equal(t, session, l.SessionID(), "the same session goes on")
	provisioning.Debug("on again")
	require.NoError(t, l.Close())
	assert.ErrorIs(t, l.SetDebug(true), ErrClosed)

	var paths []string
	for _, m := range readFile(t, l, "requests") {
		paths = append(paths, m["path"].(string))
	}
	assert.Equal(t, []string{"/on"}, paths)
	var msgs []string
	for _, m := range readFile(t, l, "provisioning") {
		msgs = append(msgs, m["msg"].(string))
	}
	assert.Equal(t, []string{"while on", "on again"}, msgs, "derived loggers follow the switch")
	var events []string
	for _, m := range readFile(t, l, "session") {
		events = append(events, m["event"].(string))
	}
	assert.Equal(t, []string{"session_start", "debug_disabled", "debug_enabled", "session_end"}, events)
}

func TestSetDebugIsSafeWhileLogging(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20000 {
			l.LogRequest(context.Background(), "GET", "/x", time.Duration(i), 200, "")
			l.With("category", "streams").Debug("s", "i", i)
		}
	}()
	for i := range 20 {
		require.NoError(t, l.SetDebug(i%2 == 0))
	}
	<-done
	require.NoError(t, l.Close())
	for _, cat := range []string{"requests", "streams", "session"} {
		if _, err := os.Stat(l.Path(cat)); err == nil || cat == "session" {
			readFile(t, l, cat) // every line decodes
		}
	}
}

func TestAdminHandler(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	srv := httptest.NewServer(l.AdminHandler())
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	state := func(resp *http.Response) AdminState {
		t.Helper()
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var s AdminState
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
		return s
	}
	switchTo := func(method, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	assert.False(t, state(resp).DebugMode)

	s := state(switchTo(http.MethodPut, `{"debug_mode": true}`))
	assert.True(t, s.DebugMode)
	assert.NotEmpty(t, s.SessionID)
	l.LogRequest(context.Background(), "GET", "/x", 0, 200, "")
	require.NoError(t, l.Flush())

	s = state(switchTo(http.MethodPost, `{"debug_mode":false}`))
	assert.False(t, s.DebugMode)
	assert.Equal(t, uint64(2), s.Written, "session_start and the request")

	for _, body := range []string{`"maybe"`, `{"debug_mode":"on"}`, `{}`, `{"debug_mode":true,"x":1}`, ``} {
		resp := switchTo(http.MethodPut, body)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		assert.Contains(t, string(msg), `want a JSON body: {"debug_mode": true} or {"debug_mode": false}`, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL, nil)
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.False(t, l.DebugMode())
}

// TestAdminHandlerRefusesCrossSiteRequests: a page in a browser on the
// admin's host must not switch debug mode. A form or a no-CORS fetch can
// only send a "simple" request (text/plain, form-encoded); a JSON one is
// preflighted (and the handler answers no OPTIONS); browsers mark their
// requests with Origin and Sec-Fetch-Site.
func TestAdminHandlerRefusesCrossSiteRequests(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	h := l.AdminHandler()
	for _, tc := range []struct {
		name, method, target, contentType, body string
		header                                  map[string]string
		status                                  int
	}{
		{"form-like text/plain POST", http.MethodPost, "/?debug=on", "text/plain", "on", map[string]string{"Origin": "http://evil.example"}, http.StatusUnsupportedMediaType},
		{"text/plain without Origin", http.MethodPost, "/", "text/plain", `{"debug_mode":true}`, nil, http.StatusUnsupportedMediaType},
		{"form-encoded", http.MethodPost, "/", "application/x-www-form-urlencoded", "debug=on", nil, http.StatusUnsupportedMediaType},
		{"multipart", http.MethodPost, "/", "multipart/form-data; boundary=x", "--x--", nil, http.StatusUnsupportedMediaType},
		{"no content type", http.MethodPut, "/", "", `{"debug_mode":true}`, nil, http.StatusUnsupportedMediaType},
		{"cross-origin JSON", http.MethodPut, "/", "application/json", `{"debug_mode":true}`, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"null origin", http.MethodPut, "/", "application/json", `{"debug_mode":true}`, map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site fetch", http.MethodPut, "/", "application/json", `{"debug_mode":true}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site fetch", http.MethodPut, "/", "application/json", `{"debug_mode":true}`, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"preflight", http.MethodOptions, "/", "", "", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"}, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:6060"+tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
			assert.False(t, l.DebugMode(), "debug mode was switched")
		})
	}

	// The admin's own page (same origin) and curl (no Origin) may switch.
	for _, header := range []map[string]string{
		{"Origin": "http://127.0.0.1:6060", "Sec-Fetch-Site": "same-origin"},
		{"Sec-Fetch-Site": "none"},
		nil,
	} {
		req := httptest.NewRequest(http.MethodPut, "http://127.0.0.1:6060/", strings.NewReader(`{"debug_mode":true}`))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.True(t, l.DebugMode())
		require.NoError(t, l.SetDebug(false))
	}
}

func TestStateIsReadableWhileSwitching(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			_, _, _, _ = l.SessionID(), l.Dir(), l.Path("requests"), l.Stats()
		}
	}()
	for i := range 20 {
		require.NoError(t, l.SetDebug(i%2 == 0))
	}
	<-done
}

// sessionLines decodes every line of every file of the Logger's session.
func sessionLines(t *testing.T, l *Logger) map[string][]map[string]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(l.Dir(), l.SessionID()+"_*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	out := map[string][]map[string]any{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), "%s", line)
			out[filepath.Base(p)] = append(out[filepath.Base(p)], m)
		}
	}
	return out
}

// assertElapsedFromSessionStart checks that every line's elapsed_seconds
// is the time since the session started (session_start's timestamp), across
// resumes and dumps: in each file, in the order written (these tests log
// from one goroutine), elapsed_seconds never goes back, as it would if a
// resume counted from itself; and each agrees with its timestamp.
//
// The agreement is loose on purpose: elapsed_seconds is measured on the
// monotonic clock, timestamps on the wall clock, and one time.Now reads the
// two one after the other, so a busy machine that preempts between the two
// reads splits them by however long it was preempted. A wrong anchor is off
// by far more here (the dumps' records are tens of seconds old; a restart
// from zero goes back).
func assertElapsedFromSessionStart(t *testing.T, l *Logger) {
	t.Helper()
	lines := sessionLines(t, l)
	session := lines[filepath.Base(l.Path("session"))]
	require.NotEmpty(t, session)
	require.Equal(t, "session_start", session[0]["event"])
	assert.Equal(t, 0.0, session[0]["elapsed_seconds"])
	start, err := time.Parse(time.RFC3339Nano, session[0]["timestamp"].(string))
	require.NoError(t, err)
	n := 0
	for file, ms := range lines {
		last := 0.0
		for _, m := range ms {
			ts, err := time.Parse(time.RFC3339Nano, m["timestamp"].(string))
			require.NoError(t, err)
			elapsed := m["elapsed_seconds"].(float64)
			assert.GreaterOrEqual(t, elapsed, last, "%s: %s %v: elapsed_seconds went back", file, m["msg"], m["event"])
			last = elapsed
			want := ts.Sub(start).Seconds()
			assert.InDelta(t, want, elapsed, 1, "%s: %s %v", file, m["msg"], m["event"])
			n++
		}
	}
	assert.Greater(t, n, 3)
}

func TestElapsedSecondsCountFromTheSessionStartAcrossResumes(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir(), Enabled: true}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	ctx := context.Background()
	l.LogRequest(ctx, "GET", "/first", time.Millisecond, 200, "")
	require.NoError(t, l.SetDebug(false))
	require.NoError(t, l.SetDebug(true))
	l.LogRequest(ctx, "GET", "/resumed", time.Millisecond, 200, "")
	require.NoError(t, l.SetDebug(false))
	require.NoError(t, l.SetDebug(true))
	l.LogRequest(ctx, "GET", "/resumed-again", time.Millisecond, 200, "")
	require.NoError(t, l.Close())
	assert.Len(t, readFile(t, l, "requests"), 3)
	assertElapsedFromSessionStart(t, l)
}

// TestSessionStartHasTheEffectiveConfig switches debug mode on at run time
// and in a flight-recorder dump: session_start says what is in effect.
func TestSessionStartHasTheEffectiveConfig(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, l.SetDebug(true))
	require.NoError(t, l.SetDebug(false))
	require.NoError(t, l.SetDebug(true))
	require.NoError(t, l.Close())
	lines := readFile(t, l, "session")
	require.Equal(t, "session_start", lines[0]["event"])
	cfg := lines[0]["config"].(map[string]any)
	assert.Equal(t, true, cfg["enabled"], "debug mode is on in this session")
	assert.Equal(t, true, cfg["stress"])
	require.Equal(t, "debug_enabled", lines[2]["event"])
	assert.Equal(t, true, lines[2]["config"].(map[string]any)["enabled"])

	dumped, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Minute}, io.Discard)
	require.NoError(t, err)
	defer dumped.Close()
	dumped.LogRequest(context.Background(), "GET", "/slow", time.Minute, 200, "")
	require.NoError(t, dumped.Flush())
	lines = readFile(t, dumped, "session")
	cfg = lines[0]["config"].(map[string]any)
	assert.Equal(t, false, cfg["enabled"], "a dump writes with debug mode off")
	assert.Equal(t, true, cfg["stress"], "stress detection runs with the flight recorder")
	assert.Equal(t, 60000.0, cfg["flight_recorder_ms"])
}

// TestCloseEndsASessionWhoseDebugModeIsOff: a session switched off ends,
// at Close, with session_end and the whole session's counts.
func TestCloseEndsASessionWhoseDebugModeIsOff(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir(), Enabled: true}, io.Discard)
	require.NoError(t, err)
	ctx := context.Background()
	l.LogRequest(ctx, "GET", "/first", time.Millisecond, 200, "")
	require.NoError(t, l.SetDebug(false))
	require.NoError(t, l.SetDebug(true))
	l.LogRequest(ctx, "GET", "/second", time.Millisecond, 200, "")
	l.LogRequest(ctx, "GET", "/third", time.Millisecond, 200, "")
	require.NoError(t, l.SetDebug(false))
	require.NoError(t, l.Close())

	var events []string
	lines := readFile(t, l, "session")
	for _, m := range lines {
		events = append(events, m["event"].(string))
	}
	require.Equal(t, []string{"session_start", "debug_disabled", "debug_enabled", "debug_disabled", "session_end"}, events)
	end := lines[len(lines)-1]
	cats := end["categories"].(map[string]any)
	assert.Equal(t, 3.0, cats["requests"].(map[string]any)["written"], "the session's requests, before and after the switch")
	assert.Equal(t, 5.0, end["records_written"], "three requests, session_start and debug_enabled")
	st := l.Stats()
	assert.Equal(t, uint64(3), st.Categories["requests"].Written)
	assert.Equal(t, uint64(5), st.Written)
	assertElapsedFromSessionStart(t, l)
}

func TestCloseEndsAFlightRecorderSession(t *testing.T) {
	l, err := New(Config{Dir: t.TempDir(), FlightRecorder: time.Minute}, io.Discard)
	require.NoError(t, err)
	l.LogRequest(context.Background(), "GET", "/before", time.Millisecond, 200, "")
	l.LogRequest(context.Background(), "GET", "/slow", time.Minute, 200, "")
	require.NoError(t, l.Close())
	lines := readFile(t, l, "session")
	var events []string
	for _, m := range lines {
		events = append(events, m["event"].(string))
	}
	assert.Equal(t, []string{"session_start", "flight_recorder_dump", "session_end"}, events)
	assert.Equal(t, 2.0, lines[2]["categories"].(map[string]any)["requests"].(map[string]any)["written"])
}

func TestCloseWithoutASessionWritesNothing(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Config{Dir: dir, FlightRecorder: time.Minute}, io.Discard)
	require.NoError(t, err)
	l.LogRequest(context.Background(), "GET", "/fast", time.Millisecond, 200, "")
	require.NoError(t, l.Close())
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents)
}
