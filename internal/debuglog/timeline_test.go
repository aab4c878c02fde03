package debuglog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/slogdebug"
)

// forged is what a hostile value tries: set the terminal's title (OSC ...
// BEL), then start a new line that looks like an event.
const forged = "\x1b]0;pwned\x07\n2026-11-26T10:17:16.000000Z  proxy  stress               FORGED"

// TestTimelineEscapesEverything: a logged ESC]0;...BEL\n FORGED neither
// reaches the terminal raw nor makes a line of its own, in any field, key,
// category or name, with colour or without.
func TestTimelineEscapesEverything(t *testing.T) {
	dir := t.TempDir()
	q := func(s string) string { b, _ := jsonString(s); return b }
	line := `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:16.5Z","level":"WARN","category":"stress","msg":` + q(forged) +
		`,"event_type":` + q(forged) + `,"severity":"warning","description":` + q(forged) + `,` + q("key"+forged) + `:1}` + "\n"
	other := `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:16.6Z","level":"DEBUG","category":` + q("odd"+forged) + `,"msg":"m",` + q(forged) + `:` + q(forged) + `}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_stress.jsonl"), []byte(line+other), 0o644))

	for _, color := range []string{"never", "always"} {
		code, out, errOut := debuglog("timeline", "--color", color, dir)
		require.Equal(t, 0, code, errOut)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		require.Len(t, lines, 2, "one line per event: %q", out)
		plain := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(out, "") // our own colours
		assert.NotContains(t, plain, "\x1b", color)
		assert.NotContains(t, plain, "\x07", color)
		for _, l := range lines {
			assert.NotRegexp(t, `^.{0,2}FORGED`, l)
		}
		assert.Contains(t, plain, `\x1b]0;pwned\x07\n2026-11-26T10:17:16.000000Z`)
		if color == "always" {
			assert.Contains(t, out, "\x1b[1;33m", "a warning in yellow")
		}
	}
	// summary, correlate and request escape what they print too.
	for _, args := range [][]string{{"summary", dir}, {"correlate", "--proxy", dir, "--orch", orchDir}} {
		code, out, _ := debuglog(args...)
		require.Equal(t, 0, code)
		assert.NotContains(t, out, "\x1b", args)
		assert.NotContains(t, out, "\x07", args)
	}
}

func jsonString(s string) (string, error) {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// TestTimelineShowsTheFieldsThatMatter: per category, the fields a reader
// needs (an orchestrator call's method and URL, the breaker's state).
func TestTimelineShowsTheFieldsThatMatter(t *testing.T) {
	proxy := writeProxyFiles(t)
	code, out, _ := debuglog("timeline", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "orchestrator_call method=POST url=http://orchestrator:8000/provision/acestream status_code=503 duration_ms=13 request_id=req-b")
	assert.Contains(t, out, "circuit_breaker operation_type=unknown state=open failure_count=5 threshold=5")
	assert.Contains(t, out, `orchestrator_health status=degraded can_provision=false blocked_reason_code=circuit_breaker blocked_reason="Circuit breaker is open" vpn_connected=false`)
	assert.Contains(t, out, `start_acestream_failed duration_ms=50 success=false error="VPN not connected" status=503`)
	assert.NotContains(t, out, "\x1b[", "no colour when stdout is not a terminal")
}

func TestColourDecision(t *testing.T) {
	var buf bytes.Buffer
	p, err := paletteFor("auto", &buf)
	require.NoError(t, err)
	assert.False(t, p.on, "not a terminal")
	p, _ = paletteFor("always", &buf)
	assert.True(t, p.on)
	t.Setenv("NO_COLOR", "1")
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err == nil {
		defer tty.Close()
		p, _ = paletteFor("auto", tty)
		assert.False(t, p.on, "NO_COLOR on a terminal")
	}
	_, err = paletteFor("sometimes", &buf)
	assert.Error(t, err)
}

// TestFollowSeesBothSystemsLive follows a proxy directory whose files
// rotate and an orchestrator directory written by hand; the test drives
// the polls (two ticks after a Flush: the second is taken only once the
// first poll is done), so it waits on events, never on time.
func TestFollowSeesBothSystemsLive(t *testing.T) {
	proxyDir, orchDir := t.TempDir(), t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: proxyDir, MaxFileBytes: 64 << 10, DisableStress: true}, io.Discard)
	require.NoError(t, err)
	defer l.Close()
	orchPath := filepath.Join(orchDir, "20261126_101715_vpn.jsonl")
	require.NoError(t, os.WriteFile(orchPath, []byte(goodLine), 0o644)) // there before: not shown

	var got []*Event
	var warnings bytes.Buffer // written by the follower, read once it has returned
	events := make(chan *Event, 10000)
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		follow(ctx, []followDir{{proxyDir, ""}, {orchDir, ""}}, newWarner(&warnings), time.Hour, tick, func(ev *Event) { events <- ev })
	}()
	settle := func() {
		tick <- time.Time{}
		tick <- time.Time{} // taken once the first poll has delivered everything
		for {
			select {
			case ev := <-events:
				got = append(got, ev)
			default:
				return
			}
		}
	}
	settle()
	require.Empty(t, got, "what was there before is not shown")

	const n = 2000
	for i := range n {
		l.LogRequest(context.Background(), "GET", "/ace/getstream", time.Millisecond, 200, fmt.Sprintf("%040d", i))
	}
	require.NoError(t, l.Flush())
	segments, _ := filepath.Glob(filepath.Join(proxyDir, "*.0*_requests.jsonl"))
	require.NotEmpty(t, segments, "the requests file rotated while followed")
	of, err := os.OpenFile(orchPath, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = of.WriteString(goodLine + goodLine[:40]) // a line still being written
	require.NoError(t, err)
	settle()

	seen := map[string]int{}
	orchLines := 0
	for _, ev := range got {
		switch ev.System {
		case systemProxy:
			if ev.Category == "requests" {
				seen[ev.str("ace_id")]++
			}
		case systemOrch:
			orchLines++
		}
	}
	assert.Len(t, seen, n, "every request, across the rotations")
	for id, c := range seen {
		require.Equal(t, 1, c, "read once: %s", id)
	}
	assert.Equal(t, 1, orchLines, "the complete orchestrator line; the partial one waits")

	_, err = of.WriteString(goodLine[40:])
	require.NoError(t, err)
	got = nil
	settle()
	require.Len(t, got, 1, "the line, once complete")
	assert.Equal(t, systemOrch, got[0].System)

	// A line still unterminated when following stops is reported.
	_, err = of.WriteString(goodLine[:30])
	require.NoError(t, err)
	require.NoError(t, of.Close())
	cancel()
	<-done
	assert.Contains(t, warnings.String(), "20261126_101715_vpn.jsonl:4: partial last line (still being written when following stopped)")
}
