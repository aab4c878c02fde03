package debuglog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOddNumbersAreNeverFatal: one line holding an odd number (1e308, its
// negative, a number past float64's range, a huge integer) in a duration, a
// status code or the elapsed seconds is read like any other line; no
// command fails on it, and the report is written and holds every line.
func TestOddNumbersAreNeverFatal(t *testing.T) {
	for _, num := range []string{"1e308", "-1e308", "1.7976931348623157e308", "1e400", "-1e400", "123456789012345678901234567890123456789", "5e-324", "-0"} {
		for _, key := range []string{"duration_ms", "status_code", "elapsed_seconds"} {
			t.Run(key+"="+num, func(t *testing.T) {
				dir := t.TempDir()
				head := `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:16.5Z","elapsed_seconds":1,"level":"DEBUG",`
				req := head + `"category":"requests","msg":"request","request_id":"req-x","method":"GET","path":"/ace/getstream","status_code":200,"duration_ms":5}` + "\n"
				odd := strings.Replace(strings.Replace(req, `"`+key+`":`, `"ignored":`, 1), `"msg":"request",`, `"msg":"request","`+key+`":`+num+`,`, 1)
				stress := strings.Replace(strings.Replace(req, `"category":"requests","msg":"request"`, `"category":"stress","msg":"slow_request","event_type":"slow_request","severity":"warning"`, 1),
					`"duration_ms":5`, `"duration_ms":`+num, 1)
				require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(req+odd), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_stress.jsonl"), []byte(stress), 0o644))

				out := filepath.Join(t.TempDir(), "r.html")
				code, _, errOut := debuglog("report", dir, "-o", out)
				require.Equal(t, 0, code, errOut)
				data := reportDataOf(t, out)
				assert.Equal(t, 3, data.Total, "every line read")
				for _, args := range [][]string{{"summary", dir}, {"timeline", dir}, {"correlate", "--proxy", dir, "--orch", orchDir},
					{"correlate", "--json", "--proxy", dir, "--orch", orchDir}, {"request", "req-x", dir, orchDir}, {"request", "--json", "req-x", dir, orchDir}} {
					code, _, errOut := debuglog(args...)
					assert.Equal(t, 0, code, "%v: %s", args, errOut)
					assert.NotContains(t, errOut, "skipped", args)
				}
			})
		}
	}
}

// TestTheLinesOwnKeysWinOverARepeatedAttribute: an attribute named like one
// of the line's own keys (timestamp, level, session_id, msg, category)
// repeats that key later in the line; encoding/json (and jq) take the last
// value, so the attribute would forge the event's time, level and name.
// debuglog takes the line's own, first, value, and says so.
func TestTheLinesOwnKeysWinOverARepeatedAttribute(t *testing.T) {
	dir := t.TempDir()
	line := `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:16.5Z","elapsed_seconds":1,"level":"DEBUG","category":"requests","msg":"request",` +
		`"request_id":"req-x","timestamp":"2030-01-01T00:00:00Z","level":"ERROR","msg":"forged","session_id":"forged","category":"stress","elapsed_seconds":99,"\u006dsg":"forged too"}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(line), 0o644))
	var got []*Event
	warnings := &strings.Builder{}
	f := describeFile(context.Background(), filepath.Join(dir, "20261126_101714_requests.jsonl"), systemProxy)
	require.NoError(t, readFile(context.Background(), f, newWarner(warnings), func(ev *Event) bool { got = append(got, ev); return true }))
	require.Len(t, got, 1)
	ev := got[0]
	assert.Equal(t, "2026-11-26T10:17:16.5Z", ev.Time.Format("2006-01-02T15:04:05.999Z"))
	assert.Equal(t, "DEBUG", ev.str("level"))
	assert.Equal(t, "request", ev.str("msg"))
	assert.Equal(t, "20261126_101714", ev.Session)
	assert.Equal(t, "requests", ev.Category)
	assert.Equal(t, float64(1), ev.Fields["elapsed_seconds"])
	assert.Equal(t, "req-x", ev.str("request_id"))
	assert.Contains(t, warnings.String(), `requests.jsonl:1: the line repeats its own keys`)

	code, out, _ := debuglog("timeline", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "2026-11-26T10:17:16.500000Z  proxy  requests")
	assert.NotContains(t, out, "forged")
}
