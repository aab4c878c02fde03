package debuglog

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/slogdebug"
)

// Sessions of the two-run directory (twoSessions).
const (
	sessionA    = "20261126_101714" // writeProxyFiles' session
	sessionB    = "20261126_120000" // a later run into the same directory
	sessionOrch = "20261126_101715" // the orchestrator's, in orchDir
)

// twoSessions is a proxy directory that two runs wrote into, as two demo
// runs with the same DEBUG_LOG_DIR do: writeProxyFiles' session, and a
// later one whose request req-z failed 503 with a slow_request of its own.
func twoSessions(t *testing.T) string {
	t.Helper()
	dir := writeProxyFiles(t)
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, SessionID: sessionB, DisableStress: true}, io.Discard)
	require.NoError(t, err)
	at := time.Date(2026, 11, 26, 12, 0, 1, 0, time.UTC)
	emit := func(level slog.Level, category, msg string, attrs ...slog.Attr) {
		r := slog.NewRecord(at, level, msg, 0)
		r.AddAttrs(slog.String("category", category))
		r.AddAttrs(attrs...)
		require.NoError(t, l.Handler().Handle(context.Background(), r))
	}
	emit(slog.LevelDebug, "requests", "request", slog.String("request_id", "req-z"), slog.String("method", "GET"), slog.String("path", "/ace/getstream"),
		slog.Duration("duration", 6*time.Second), slog.Int("status_code", 503))
	emit(slog.LevelWarn, "stress", "slow_request", slog.String("request_id", "req-z"), slog.String("event_type", "slow_request"), slog.String("severity", "warning"),
		slog.String("description", "Request took 6s (threshold 5s)"), slog.Duration("duration", 6*time.Second))
	require.NoError(t, l.Close())
	return dir
}

// TestSessionPicksOneRunOfTwo: every command reads every session by
// default, warning (on stderr, naming the sessions and the flag) when it
// mixes several of one system's; --session reads only those named; a
// session no file has, or a system left without one of its sessions, is
// an error that lists what there is.
func TestSessionPicksOneRunOfTwo(t *testing.T) {
	proxy := twoSessions(t)
	report := filepath.Join(t.TempDir(), "r.html")
	for _, tc := range []struct {
		name  string
		args  []string
		mixes bool // the command merges sessions: the warning is due
		// seesB says that session B's events show in the output.
		seesB func(out string) bool
	}{
		{"summary", []string{"summary", proxy, orchDir}, false, func(out string) bool { return strings.Contains(out, "session proxy "+sessionB) }},
		{"correlate", []string{"correlate", "--proxy", proxy, "--orch", orchDir}, true, func(out string) bool { return strings.Contains(out, "req-z") }},
		{"timeline", []string{"timeline", "--proxy", proxy, "--orch", orchDir}, true, func(out string) bool { return strings.Contains(out, "req-z") }},
		{"request", []string{"request", "req-c", "--proxy", proxy, "--orch", orchDir}, true, nil},
		{"report", []string{"report", "--proxy", proxy, "--orch", orchDir, "-o", report}, true, func(string) bool {
			return strings.Contains(reportTitle(t, report), sessionB)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := debuglog(tc.args...)
			require.Equal(t, 0, code, errOut)
			if tc.mixes {
				assert.Contains(t, errOut, "debuglog: warning: the proxy's files hold 2 sessions, read together: "+sessionA+" (10 files), "+sessionB+" (3 files); --session ID reads one",
					"named, with the flag")
				assert.NotContains(t, errOut, "the orchestrator's files hold", "one session there: nothing mixed")
			} else {
				assert.NotContains(t, errOut, "sessions, read together", "summary keeps each session apart")
			}
			if tc.seesB != nil {
				assert.True(t, tc.seesB(out), "every session by default:\n%s", out)
			}

			code, out, errOut = debuglog(append(tc.args, "--session", sessionA+","+sessionOrch)...)
			require.Equal(t, 0, code, errOut)
			assert.NotContains(t, errOut, "read together")
			if tc.seesB != nil {
				assert.False(t, tc.seesB(out), "--session leaves the other run out:\n%s", out)
			}
			// Repeated, the flag names one session each time.
			code, _, errOut = debuglog(append(tc.args, "--session", sessionA, "--session", sessionOrch)...)
			require.Equal(t, 0, code, errOut)

			code, _, errOut = debuglog(append(tc.args, "--session", "20990101_000000")...)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, "no file of session 20990101_000000 (sessions found: proxy's "+sessionA+", "+sessionB+"; orchestrator's "+sessionOrch+")")

			code, _, errOut = debuglog(append(tc.args, "--session", sessionB)...)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, "--session names none of the orchestrator's sessions ("+sessionOrch+"): name one of them too (--session "+sessionB+",ID)")
		})
	}
	// One system alone: its session is enough.
	code, out, errOut := debuglog("timeline", "--session", sessionB, proxy)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "req-z")
	assert.NotContains(t, out, "req-c")
	code, _, errOut = debuglog("request", "req-z", "--session", sessionA, proxy)
	assert.Equal(t, 1, code, "req-z is of the other run")
	assert.Contains(t, errOut, `no event carries request_id or trace_id "req-z"`)
}

// TestFollowReadsOnlyTheSessionNamed: timeline --follow --session prints
// the lines of that session only (a restarted proxy's new session is left
// out).
func TestFollowReadsOnlyTheSessionNamed(t *testing.T) {
	dir := t.TempDir()
	tick := make(chan time.Time)
	followTicks = tick
	t.Cleanup(func() { followTicks = nil })
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut bytes.Buffer // read once the command has returned
	done := make(chan int)
	go func() {
		done <- RunContext(ctx, []string{"timeline", "--follow", "--color", "never", "--session", sessionB, dir}, &out, &errOut)
	}()
	tick <- time.Time{} // taken once the first poll is done
	for _, s := range []string{sessionA, sessionB} {
		line := `{"session_id":"` + s + `","timestamp":"2026-11-26T12:00:01.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"of-` + s + `"}` + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, s+"_requests.jsonl"), []byte(line), 0o644))
	}
	tick <- time.Time{}
	tick <- time.Time{} // taken once the poll that read them has printed them
	cancel()
	require.Equal(t, 0, <-done, errOut.String())
	assert.Contains(t, out.String(), "of-"+sessionB)
	assert.NotContains(t, out.String(), "of-"+sessionA)
}

// reportTitle is the title of a report page.
func reportTitle(t *testing.T, path string) string {
	t.Helper()
	return reportDataOf(t, path).Title
}
