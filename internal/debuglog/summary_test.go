package debuglog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxyLine is one line of the proxy's files, as the library writes it.
func proxyLine(category, msg, at string, fields string) string {
	if fields != "" {
		fields = "," + fields
	}
	return fmt.Sprintf(`{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:%sZ","level":"DEBUG","category":%q,"msg":%q%s}`, at, category, msg, fields)
}

// writeLines writes a proxy session's lines, per category, into a new
// directory.
func writeLines(t *testing.T, lines []string) string {
	t.Helper()
	dir := t.TempDir()
	byCat := map[string][]string{}
	for _, l := range lines {
		cat := l[strings.Index(l, `"category":"`)+len(`"category":"`):]
		cat = cat[:strings.IndexByte(cat, '"')]
		byCat[cat] = append(byCat[cat], l)
	}
	for cat, ls := range byCat {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_"+cat+".jsonl"), []byte(strings.Join(ls, "\n")+"\n"), 0o644))
	}
	return dir
}

// TestSummaryCountsWhatViewersWentThrough: summary says how the requests
// were answered (every status code, 503s included), how many waited too
// long for their first byte (ttfb_ms, when the proxy logs it), and how
// many streams stalled (max_stall_ms, stream_stalled), with thresholds of
// the session's own config unless given.
func TestSummaryCountsWhatViewersWentThrough(t *testing.T) {
	req := func(at string, status int, extra string) string {
		f := fmt.Sprintf(`"request_id":"r%s","method":"GET","path":"/ace/getstream","duration_ms":60000.0,"status_code":%d`, at[:2], status)
		if extra != "" {
			f += "," + extra
		}
		return proxyLine("requests", "request", at, f)
	}
	start := func(config string) string {
		return proxyLine("session", "session_start", "14.000000000", `"event":"session_start","config":{`+config+`}`)
	}
	for _, tc := range []struct {
		name  string
		lines []string
		args  []string
		want  string // the session's viewer lines, golden
	}{
		{
			name: "a proxy from before ttfb_ms: status codes, and the stress events it has",
			lines: []string{
				req("15.000000000", 200, ""), req("16.000000000", 503, ""), req("17.000000000", 503, ""), req("18.000000000", 200, ""),
				proxyLine("requests", "request", "19.000000000", `"request_id":"r19","method":"GET","path":"/ace/getstream","duration_ms":3.0,"error":"client went away"`),
				proxyLine("stress", "slow_request", "18.500000000", `"event_type":"slow_request","severity":"warning"`),
			},
			want: `  requests     5: 2 × 200, 2 × 503, 1 with no answer (an error, no status) (60.0% failed: 5xx or no answer)
  slow starts  1 slow_request stress event; the wait for the first byte is not logged (no ttfb_ms: a proxy from before it)
  stalls       0 stream_stalled stress events; the streams' longest gaps are not logged (no max_stall_ms: a proxy from before it)
`,
		},
		{
			name: "ttfb_ms against the session's own threshold; a 60 s stream that started at once is no slow start",
			lines: []string{
				start(`"stress_slow":{"requests_ms":400.0,"engine_selection_ms":300.0}`),
				req("15.000000000", 200, `"ttfb_ms":12.0`), req("16.000000000", 200, `"ttfb_ms":450.0`), req("17.000000000", 200, `"ttfb_ms":399.9`),
				req("18.000000000", 503, `"ttfb_ms":6000.0`),
			},
			want: `  requests     4: 3 × 200, 1 × 503 (25.0% failed: 5xx or no answer)
  slow starts  2 of 4 requests waited 400 ms or more for their first byte (the session's threshold; ttfb_ms p50 400 ms, p95 6.00 s, max 6.00 s); 0 slow_request stress events
  stalls       0 stream_stalled stress events; the streams' longest gaps are not logged (no max_stall_ms: a proxy from before it)
`,
		},
		{
			name: "--slow overrides the session's threshold",
			lines: []string{
				start(`"stress_slow":{"requests_ms":400.0}`),
				req("15.000000000", 200, `"ttfb_ms":450.0`), req("16.000000000", 200, `"ttfb_ms":1500.0`),
			},
			args: []string{"--slow", "1s"},
			want: `  requests     2: 2 × 200
  slow starts  1 of 2 requests waited 1.00 s or more for their first byte (--slow threshold; ttfb_ms p50 450 ms, p95 1.50 s, max 1.50 s); 0 slow_request stress events
  stalls       0 stream_stalled stress events; the streams' longest gaps are not logged (no max_stall_ms: a proxy from before it)
`,
		},
		{
			name: "stalls: max_stall_ms of the streams and the stream_stalled events, the session's stall threshold",
			lines: []string{
				start(`"stress_stall_ms":3000.0`),
				req("15.000000000", 200, `"ttfb_ms":20.0`),
				proxyLine("disconnects", "disconnect", "15.000000000", `"request_id":"r15","stream_id":"a|1","reason":"completed","duration_ms":60000.0,"max_stall_ms":120.0`),
				proxyLine("disconnects", "disconnect", "16.000000000", `"request_id":"r16","stream_id":"b|1","reason":"completed","duration_ms":60000.0,"max_stall_ms":8200.0`),
				proxyLine("disconnects", "disconnect", "17.000000000", `"request_id":"r17","stream_id":"c|1","reason":"client_gone","duration_ms":60000.0,"max_stall_ms":3000.0`),
				proxyLine("stress", "stream_stalled", "16.500000000", `"event_type":"stream_stalled","severity":"warning","stall_ms":8000.0`),
				proxyLine("stress", "stream_stalled", "16.900000000", `"event_type":"stream_stalled","severity":"warning","stall_ms":8200.0`),
			},
			want: `  requests     1: 1 × 200
  slow starts  0 of 1 requests waited 5.00 s or more for their first byte (default threshold; ttfb_ms p50 20 ms, p95 20 ms, max 20 ms); 0 slow_request stress events
  stalls       2 of 3 streams stalled 3.00 s or more (the session's threshold; max_stall_ms p50 3.00 s, p95 8.20 s, max 8.20 s); 2 stream_stalled stress events, the longest 8.20 s
  ended        2 completed, 1 client_gone
`,
		},
		{
			name: "Middleware's requests lines: each says how its stream ended, and its longest stall",
			lines: []string{
				req("15.000000000", 200, `"ttfb_ms":20.0,"stream_id":"a|1","reason":"completed","side":"engine","max_stall_ms":120.0`),
				req("16.000000000", 200, `"ttfb_ms":30.0,"stream_id":"b|1","reason":"client_disconnected","side":"client","max_stall_ms":6000.0,"stream_error":"context canceled"`),
				req("17.000000000", 200, `"ttfb_ms":40.0,"stream_id":"c|1","reason":"client_disconnected","side":"client","max_stall_ms":10.0,"stream_error":"broken pipe"`),
			},
			want: `  requests     3: 3 × 200
  slow starts  0 of 3 requests waited 5.00 s or more for their first byte (default threshold; ttfb_ms p50 30 ms, p95 40 ms, max 40 ms); 0 slow_request stress events
  stalls       1 of 3 streams stalled 5.00 s or more (default threshold; max_stall_ms p50 120 ms, p95 6.00 s, max 6.00 s); 0 stream_stalled stress events
  ended        2 client_disconnected, 1 completed
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeLines(t, tc.lines)
			code, out, errOut := debuglog(append(append([]string{"summary"}, tc.args...), dir)...)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, errOut)
			lines := strings.SplitAfter(out, "\n")
			n := strings.Count(tc.want, "\n")
			require.Greater(t, len(lines), n+1, out)
			assert.Equal(t, tc.want, strings.Join(lines[1:1+n], ""), out)
		})
	}
}

// TestASlowStartIsNotALongStream: correlate (and the report) take a
// request as slow by its wait for the first byte when the proxy logs it: a
// 60 s stream that started at once explains nothing; one that waited 6 s
// is a slow request; a line from before ttfb_ms is judged by its whole
// duration; a stall is an effect that began when the stream stopped.
func TestASlowStartIsNotALongStream(t *testing.T) {
	for _, tc := range []struct {
		name, line, kind string
		span             time.Duration // from the effect's start to its end
	}{
		{"a long stream that started at once", proxyLine("requests", "request", "20.000000000", `"duration_ms":60000.0,"ttfb_ms":12.0,"status_code":200`), "", 0},
		{"a stream whose first byte waited 6 s", proxyLine("requests", "request", "20.000000000", `"duration_ms":60000.0,"ttfb_ms":6000.0,"status_code":200`), "slow_request", time.Minute},
		{"a proxy from before ttfb_ms: the whole request", proxyLine("requests", "request", "20.000000000", `"duration_ms":6000.0,"status_code":200`), "slow_request", 6 * time.Second},
		{"a short failed request", proxyLine("requests", "request", "20.000000000", `"duration_ms":3.0,"ttfb_ms":3.0,"status_code":503`), "failed_request", 3 * time.Millisecond},
		{"a stall of 8 s", proxyLine("stress", "stream_stalled", "20.000000000", `"event_type":"stream_stalled","severity":"warning","stall_ms":8000.0`), "stress", 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := parseLine(file{system: systemProxy, category: "x"}, []byte(tc.line), 1)
			require.NoError(t, err)
			e := effectOf(ev, 5*time.Second)
			if tc.kind == "" {
				assert.Nil(t, e)
				assert.Zero(t, kindOf(ev)&kindSlow, "not drawn as slow in the report")
				return
			}
			require.NotNil(t, e)
			assert.Equal(t, tc.kind, e.kind)
			assert.Equal(t, tc.span, e.end.Sub(e.start))
		})
	}
}
