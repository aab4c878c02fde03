package debuglog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/slogdebug"
)

func TestMain(m *testing.M) {
	if os.Getenv("DEBUGLOG_CHILD") != "" {
		os.Exit(childMain())
	}
	code := m.Run()
	stopClickHouse() // the tests' server (clickhouse_test.go), when one was started
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// childMain is debuglog in a child process (see startChild): the command
// line is the test binary's arguments. In mode blocking-read every file
// opens as a pipe that nobody writes: each read blocks, as on /proc/kmsg.
func childMain() int {
	if n, ok := strings.CutPrefix(os.Getenv("DEBUGLOG_CHILD_MODE"), "ship-stall-after="); ok {
		// ship stops for good after the server acknowledged its Nth batch,
		// before the checkpoint is written: where a crash costs most.
		stallAfter, _ := strconv.Atoi(n)
		acks := 0
		shipAckedHook = func() error {
			if acks++; acks == stallAfter {
				fmt.Println("ship: stalled after an acknowledged batch, before its checkpoint")
				time.Sleep(time.Hour) // killed here by the test
			}
			return nil
		}
	}
	if os.Getenv("DEBUGLOG_CHILD_MODE") == "blocking-read" {
		var writers []*os.File // held open: the reads wait for data
		openInput = func(string) (*os.File, error) {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			writers = append(writers, w)
			fmt.Fprintln(os.Stderr, "reading a file that never answers")
			return r, nil
		}
	}
	return Main(os.Args[1:])
}

// orchDir holds the orchestrator's real debug files of a scenario:
// provisioning, a VPN drop, the circuit breaker opening, a slow provisioning.
const orchDir = "testdata/orchestrator-logs"

// debuglog runs a command line and returns its exit code and outputs.
func debuglog(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeProxyFiles writes, with the library, the proxy's side of the
// orchestrator scenario in testdata, as the proxy would have logged it in
// the same second (times are set on the records, so the test controls the
// clock):
//
//   - req-a arrives at 15.640, has an engine provisioned (the orchestrator's
//     start_acestream 15.685-16.186, container 3f2a9c1be0d4) and streams;
//   - req-b arrives at 16.585, as the VPN drops: its first provisioning
//     attempt fails on the VPN 12 ms after the orchestrator's
//     start_acestream_failed, the second on the circuit breaker that opened
//     meanwhile (a provisioning_circuit_breaker stress event), and it is
//     answered 503 at 17.210;
//   - the health poll (every 500 ms) sees the orchestrator degraded at 16.800
//     (an orchestrator_degraded stress event);
//   - req-c waited 13.3 s for container 3f2a9c1be0d4 (the orchestrator's
//     slow_provisioning) and is answered at 16.950: a slow_request and a
//     slow_engine_selection.
func writeProxyFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: dir, SessionID: "20261126_101714", DisableStress: true}, io.Discard)
	require.NoError(t, err)
	h := l.Handler()
	emit := func(at, category, msg string, attrs ...slog.Attr) {
		ts, err := time.Parse(time.RFC3339Nano, "2026-11-26T"+at+"Z")
		require.NoError(t, err)
		level := slog.LevelDebug
		if category == "stress" {
			level = slog.LevelWarn
		}
		r := slog.NewRecord(ts, level, msg, 0)
		r.AddAttrs(slog.String("category", category))
		r.AddAttrs(attrs...)
		require.NoError(t, h.Handle(context.Background(), r))
	}
	ms := func(n float64) slog.Attr {
		return slog.Duration("duration", time.Duration(n*float64(time.Millisecond)))
	}
	rid := func(id string) slog.Attr { return slog.String("request_id", id) }
	orchCall := func(at, id, method, path string, status int, d float64) {
		emit(at, "orchestrator_calls", "orchestrator_call", rid(id), slog.String("method", method), slog.String("url", "http://orchestrator:8000"+path),
			slog.Int("status_code", status), ms(d))
	}
	const container = "3f2a9c1be0d4"
	emit("10:17:15.680", "requests", "request", rid("req-0"), slog.String("method", "GET"), slog.String("path", "/ace/getstream"), ms(5.2), slog.Int("status_code", 200), slog.String("ace_id", "a0"))
	// req-a: provisioned, streams.
	orchCall("10:17:16.189", "req-a", "POST", "/provision/acestream", 200, 506)
	emit("10:17:16.190", "provisioning", "provisioning", rid("req-a"), slog.String("operation", "provision_success"), ms(506), slog.Bool("success", true), slog.Int("retry_count", 0))
	emit("10:17:16.192", "engine_selection", "engine_selection", rid("req-a"), slog.String("operation", "select_best_engine"), slog.String("container_id", container), ms(552))
	emit("10:17:16.300", "streams", "stream_started", rid("req-a"), slog.String("event_type", "stream_started"), slog.String("stream_id", "abc|s1"), slog.String("engine_id", container), ms(3))
	// The health poll: healthy, then degraded.
	emit("10:17:16.300", "orchestrator_health", "orchestrator_health", rid("poll-1"), slog.String("status", "healthy"), slog.Bool("can_provision", true), slog.Bool("vpn_connected", true))
	// req-b: blocked by the VPN, then by the circuit breaker; 503.
	orchCall("10:17:16.599", "req-b", "POST", "/provision/acestream", 503, 13)
	emit("10:17:16.599", "provisioning", "provisioning", rid("req-b"), slog.String("operation", "provision_attempt_failed"), ms(13), slog.Bool("success", false),
		slog.String("error", "provisioning blocked (vpn_disconnected): VPN is disconnected"), slog.Int("retry_count", 1))
	orchCall("10:17:16.751", "req-b", "POST", "/provision/acestream", 503, 2)
	emit("10:17:16.751", "provisioning", "provisioning", rid("req-b"), slog.String("operation", "provision_attempt_failed"), ms(2), slog.Bool("success", false),
		slog.String("error", "provisioning blocked (circuit_breaker): Circuit breaker is open"), slog.Int("retry_count", 2))
	emit("10:17:16.751", "stress", "provisioning_circuit_breaker", rid("req-b"), slog.String("event_type", "provisioning_circuit_breaker"), slog.String("severity", "critical"),
		slog.String("description", "Provisioning blocked by the orchestrator's circuit breaker"), slog.String("operation", "provision_attempt_failed"),
		slog.String("error", "provisioning blocked (circuit_breaker): Circuit breaker is open"), slog.Int("retry_count", 2))
	emit("10:17:16.800", "orchestrator_health", "orchestrator_health", rid("poll-2"), slog.String("status", "degraded"), slog.Bool("can_provision", false),
		slog.String("blocked_reason", "Circuit breaker is open"), slog.String("blocked_reason_code", "circuit_breaker"), slog.Bool("vpn_connected", false))
	emit("10:17:16.801", "stress", "orchestrator_degraded", rid("poll-2"), slog.String("event_type", "orchestrator_degraded"), slog.String("severity", "warning"),
		slog.String("description", "Orchestrator is degraded: Circuit breaker is open"), slog.String("blocked_reason", "Circuit breaker is open"),
		slog.String("blocked_reason_code", "circuit_breaker"), slog.Bool("can_provision", false), slog.Bool("vpn_connected", false))
	// req-c: waited for the slow provisioning of the container.
	emit("10:17:16.930", "engine_selection", "engine_selection", rid("req-c"), slog.String("operation", "select_best_engine"), slog.String("container_id", container), ms(13250))
	emit("10:17:16.931", "stress", "slow_engine_selection", rid("req-c"), slog.String("event_type", "slow_engine_selection"), slog.String("severity", "warning"),
		slog.String("description", "Engine selection took 13.25s (threshold 2s)"), slog.String("container_id", container), ms(13250))
	orchCall("10:17:16.940", "req-c", "POST", "/events/stream_started", 200, 4)
	emit("10:17:16.940", "streams", "stream_started", rid("req-c"), slog.String("event_type", "stream_started"), slog.String("stream_id", "def|s2"), slog.String("engine_id", container), ms(4))
	emit("10:17:16.950", "requests", "request", rid("req-c"), slog.String("method", "GET"), slog.String("path", "/ace/getstream"), ms(13300), slog.Int("status_code", 200), slog.String("ace_id", "def"))
	emit("10:17:16.951", "stress", "slow_request", rid("req-c"), slog.String("event_type", "slow_request"), slog.String("severity", "warning"),
		slog.String("description", "Request waited 13.30s for its first byte (threshold 5s), then lasted 13.30s in all"), slog.String("method", "GET"), slog.String("path", "/ace/getstream"), ms(13300),
		slog.String("execution_trace", "20261126_101714_execution_trace_001.trace"))
	emit("10:17:17.210", "requests", "request", rid("req-b"), slog.String("method", "GET"), slog.String("path", "/ace/getstream"), ms(625), slog.Int("status_code", 503), slog.String("ace_id", "ghi"))
	// req-a's stream ends.
	emit("10:17:17.400", "disconnects", "disconnect", rid("req-a"), slog.String("stream_id", "abc|s1"), slog.String("reason", "completed"), ms(1100))
	emit("10:17:17.401", "requests", "request", rid("req-a"), slog.String("method", "GET"), slog.String("path", "/ace/getstream"), ms(1761), slog.Int("status_code", 200), slog.String("ace_id", "abc"))
	emit("10:17:17.900", "errors", "error", slog.String("component", "proxy"), slog.String("error_type", "*net.OpError"), slog.String("error_message", "connection refused"))
	require.NoError(t, l.Close())
	return dir
}

func TestSummaryOnBothSystems(t *testing.T) {
	proxy := writeProxyFiles(t)
	code, out, errOut := debuglog("summary", proxy, orchDir)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "session orchestrator 20261126_101715  26 lines")
	assert.Contains(t, out, "session proxy 20261126_101714")
	assert.Regexp(t, `provisioning +start_acestream_success +1 +520\.0`, out)
	assert.Regexp(t, `vpn +health_check +3 +10\.0 +20\.0 +20\.0 +20\.0`, out)
	assert.Regexp(t, `circuit_breaker_opened +critical +1`, out)
	assert.Regexp(t, `vpn_disconnection +critical +1`, out)
	assert.Regexp(t, `TimeoutError +1`, out)
	assert.Regexp(t, `\*net\.OpError +1`, out)
	assert.Regexp(t, `orchestrator_degraded +warning +1`, out)
}

func TestPercentiles(t *testing.T) {
	var s []float64
	for i := 1; i <= 100; i++ {
		s = append(s, float64(i))
	}
	assert.Equal(t, 50.0, percentile(s, 50))
	assert.Equal(t, 95.0, percentile(s, 95))
	assert.Equal(t, 99.0, percentile(s, 99))
	assert.Equal(t, 100.0, percentile(s, 100))
	assert.Equal(t, 7.0, percentile([]float64{7}, 99))
}

// correlationDoc is correlate --json's document, as a consumer reads it.
type correlationDoc struct {
	Overlap bool    `json:"overlap"`
	GapMS   float64 `json:"gap_ms"`
	Effects []struct {
		Kind   string         `json:"kind"`
		Name   string         `json:"name"`
		Time   string         `json:"time"`
		Topics []string       `json:"topics"`
		Data   map[string]any `json:"data"`
		Causes []struct {
			Rank   int            `json:"rank"`
			Match  string         `json:"match"`
			Key    string         `json:"key"`
			Name   string         `json:"name"`
			Time   string         `json:"time"`
			LeadMS float64        `json:"lead_ms"`
			Topics []string       `json:"topics"`
			File   string         `json:"file"`
			Line   int            `json:"line"`
			Data   map[string]any `json:"data"`
		} `json:"causes"`
	} `json:"effects"`
	Incidents []struct {
		Name     string `json:"name"`
		Explains int    `json:"explains"`
	} `json:"incidents"`
	Clock *struct {
		Requests int     `json:"requests"`
		MinMS    float64 `json:"offset_min_ms"`
		MaxMS    float64 `json:"offset_max_ms"`
	} `json:"clock"`
}

func correlateJSON(t *testing.T, args ...string) correlationDoc {
	t.Helper()
	code, out, errOut := debuglog(append([]string{"correlate", "--json"}, args...)...)
	require.Equal(t, 0, code, errOut)
	var doc correlationDoc
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	return doc
}

// causesOf returns the names of the causes of the effect named name (and
// of request requestID when set), in rank order.
func causesOf(t *testing.T, doc correlationDoc, name, requestID string) []string {
	t.Helper()
	for _, e := range doc.Effects {
		if e.Name == name && (requestID == "" || e.Data["request_id"] == requestID) {
			var names []string
			for _, c := range e.Causes {
				names = append(names, c.Name)
			}
			return names
		}
	}
	t.Fatalf("no effect %s %s", name, requestID)
	return nil
}

// TestCorrelateExplainsTheScenario runs correlate on the orchestrator's real
// files with the proxy's side of the same second: every proxy stress event
// and every failed or slow request gets the orchestrator events that caused
// it, ranked, IDs first.
func TestCorrelateExplainsTheScenario(t *testing.T) {
	proxy := writeProxyFiles(t)
	doc := correlateJSON(t, "--proxy", proxy, "--orch", orchDir, "--poll", "500ms")
	require.True(t, doc.Overlap)

	kinds := map[string]int{}
	for _, e := range doc.Effects {
		kinds[e.Kind]++
		require.NotEmpty(t, e.Causes, "every effect of the scenario has a cause: %s %v", e.Name, e.Data)
		for i, c := range e.Causes {
			assert.Equal(t, i+1, c.Rank)
			assert.NotEmpty(t, c.File)
			assert.Positive(t, c.Line)
			assert.Equal(t, "orchestrator", filepath.Base(filepath.Dir(c.File))[:12], "causes come from the orchestrator's files")
			if c.Match == "topic" || c.Match == "time" {
				// In the causal window: at most within+poll before the
				// effect began, within after it ended.
				assert.LessOrEqual(t, c.LeadMS, 1500.0+durationOf(e.Data), "%s <- %s", e.Name, c.Name)
			}
		}
	}
	assert.Equal(t, map[string]int{"stress": 4, "failed_request": 1, "slow_request": 1}, kinds)

	// The proxy saw the orchestrator degraded: the circuit breaker that
	// opened 214 ms before is the first cause; the VPN drop is one too.
	degraded := causesOf(t, doc, "orchestrator_degraded", "")
	assert.Equal(t, "circuit_breaker_opened", degraded[0])
	assert.Contains(t, degraded, "vpn_disconnection")

	// Provisioning blocked by the breaker: the breaker first; the
	// orchestrator's start_acestream_failed (blocked by the VPN) is a cause
	// on both topics.
	blocked := causesOf(t, doc, "provisioning_circuit_breaker", "")
	assert.Equal(t, "circuit_breaker_opened", blocked[0])
	assert.Contains(t, blocked, "start_acestream_failed")
	for _, e := range doc.Effects {
		for _, c := range e.Causes {
			if c.Name == "start_acestream_failed" {
				assert.Subset(t, c.Topics, []string{"provisioning", "vpn"}, "a provisioning failure blocked by the VPN is both")
			}
		}
	}

	// The failed request: its steps give it the topics of its failures.
	for _, e := range doc.Effects {
		if e.Kind == "failed_request" {
			assert.Equal(t, "req-b", e.Data["request_id"])
			assert.Subset(t, e.Topics, []string{"provisioning", "vpn", "circuit_breaker"})
		}
	}
	failed := causesOf(t, doc, "request", "req-b")
	assert.Subset(t, failed, []string{"circuit_breaker_opened", "vpn_disconnection", "start_acestream_failed"})

	// The slow request: paired exactly by the container its engine
	// selection got, the orchestrator's slow provisioning of it first.
	slow := causesOf(t, doc, "request", "req-c")
	assert.Subset(t, slow[:2], []string{"slow_provisioning", "start_acestream"})
	for _, e := range doc.Effects {
		if e.Data["request_id"] == "req-c" && e.Kind == "slow_request" {
			assert.Equal(t, "container_id", e.Causes[0].Match)
			assert.Equal(t, "3f2a9c1be0d4", e.Causes[0].Key)
		}
	}

	// One to many: the breaker opening explains several effects.
	for _, in := range doc.Incidents {
		if in.Name == "circuit_breaker_opened" {
			assert.GreaterOrEqual(t, in.Explains, 3)
		}
	}

	code, human, _ := debuglog("correlate", "--proxy", proxy, "--orch", orchDir, "--poll", "500ms")
	require.Equal(t, 0, code)
	assert.Contains(t, human, "proxy stress orchestrator_degraded (warning)")
	assert.Contains(t, human, "circuit breaker open since 10:17:16.587 (no recovery logged), 214 ms before")
	assert.Contains(t, human, "same container_id 3f2a9c1be0d4")
	assert.Regexp(t, `circuit_breaker_opened severity=critical failure_count=5: 3 effects, the first 164 ms later`, human)
}

func durationOf(data map[string]any) float64 {
	d, _ := data["duration_ms"].(float64)
	return d
}

// TestCorrelateFoldersThatDoNotOverlap: a proxy folder of another day says
// so plainly, instead of findings that the proxy "did not see" anything.
func TestCorrelateFoldersThatDoNotOverlap(t *testing.T) {
	dir := t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: dir, SessionID: "20261127_033000", DisableStress: true}, io.Discard)
	require.NoError(t, err)
	r := slog.NewRecord(time.Date(2026, 11, 27, 3, 30, 1, 0, time.UTC), slog.LevelWarn, "orchestrator_degraded", 0)
	r.AddAttrs(slog.String("category", "stress"), slog.String("event_type", "orchestrator_degraded"), slog.String("severity", "warning"),
		slog.String("blocked_reason_code", "circuit_breaker"))
	require.NoError(t, l.Handler().Handle(context.Background(), r))
	require.NoError(t, l.Close())

	doc := correlateJSON(t, "--proxy", dir, "--orch", orchDir)
	assert.False(t, doc.Overlap)
	assert.InDelta(t, (17*time.Hour+12*time.Minute+44*time.Second).Seconds()*1000, doc.GapMS, 1000)
	require.Len(t, doc.Effects, 1)
	assert.Empty(t, doc.Effects[0].Causes, "nothing is paired by time across 17 hours")

	code, human, _ := debuglog("correlate", "--proxy", dir, "--orch", orchDir)
	require.Equal(t, 0, code)
	assert.Contains(t, human, "These folders do not overlap in time: they are 17h13m0s apart")
	assert.NotContains(t, human, "did not log")
}

// countLines counts the lines of a directory's debug files.
func countLines(t *testing.T, dir string) int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	n := 0
	for _, name := range names {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func TestTimelineMergesAndFilters(t *testing.T) {
	proxy := writeProxyFiles(t)
	code, out, errOut := debuglog("timeline", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 26+countLines(t, proxy), "every line of both systems")
	prev := ""
	for _, l := range lines {
		ts := strings.Fields(l)[0]
		require.LessOrEqual(t, prev, ts, "time order: %s", l)
		prev = ts
	}
	assert.Contains(t, out, "orch   circuit_breaker")

	_, vpnOnly, _ := debuglog("timeline", "--category", "vpn", orchDir)
	assert.Len(t, strings.Split(strings.TrimSpace(vpnOnly), "\n"), 5)

	_, window, _ := debuglog("timeline", "--since", "10:17:16.5", "--until", "10:17:16.6", "--grep", "VPN", "--proxy", proxy, "--orch", orchDir)
	for _, l := range strings.Split(strings.TrimSpace(window), "\n") {
		assert.Regexp(t, `^2026-11-26T10:17:16\.5`, l)
		assert.Contains(t, strings.ToLower(l), "vpn")
	}
	assert.Contains(t, window, "provision_attempt_failed")
	assert.Contains(t, window, "vpn_disconnection")
}

func TestMessyFiles(t *testing.T) {
	dir := t.TempDir()
	good := `{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:16+00:00", "elapsed_seconds": 1.0, "operation": "health_check", "status": "healthy", "duration_ms": 10.0}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101715_vpn.jsonl"),
		[]byte(good+"garbage, not json\n"+good+`{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:17.5+00:00", "oper`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101715_empty.jsonl"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101715_badtime.jsonl"), []byte(`{"timestamp": "yesterday"}`+"\n[1,2]\n"), 0o644))

	code, out, errOut := debuglog("summary", dir)
	require.Equal(t, 0, code, "malformed lines are warnings")
	assert.Contains(t, errOut, "20261126_101715_vpn.jsonl:2: not JSON")
	assert.Contains(t, errOut, "20261126_101715_vpn.jsonl:4: partial last line")
	assert.Contains(t, errOut, `20261126_101715_badtime.jsonl:1: timestamp "yesterday"`)
	assert.Contains(t, errOut, "20261126_101715_badtime.jsonl:2: not JSON")
	assert.Regexp(t, `vpn +2 `, out, "the good lines still count")
	assert.Contains(t, out, "4 malformed lines skipped")

	code, _, _ = debuglog("timeline", dir)
	assert.Equal(t, 0, code)
}

func TestLargeFileStreams(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "20261126_101715_requests.jsonl"))
	require.NoError(t, err)
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	const n = 50_000
	for i := range n {
		b.Reset()
		// Lines slightly out of time order, as an async writer may leave them.
		ts := base.Add(time.Duration(i)*time.Millisecond - time.Duration(i%3)*time.Millisecond)
		b.WriteString(`{"session_id":"20261126_101715","timestamp":"` + ts.Format(time.RFC3339Nano) + `","level":"DEBUG","category":"requests","msg":"request","path":"/p","duration_ms":`)
		b.WriteString(strings.Repeat("1", 1+i%3))
		b.WriteString("}\n")
		_, err := f.Write(b.Bytes())
		require.NoError(t, err)
	}
	// A line longer than the reader takes.
	_, err = f.WriteString(`{"msg":"` + strings.Repeat("x", maxLine+10) + `"}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, out, errOut := debuglog("summary", dir)
	require.Equal(t, 0, code)
	assert.Regexp(t, `requests +50000 `, out)
	assert.Regexp(t, `requests +/p +50000 +11\.0 +111\.0 +111\.0 +111\.0`, out)
	assert.Contains(t, errOut, "longer than")

	count, prev := 0, ""
	code, out, _ = debuglog("timeline", dir)
	require.Equal(t, 0, code)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		ts := strings.Fields(l)[0]
		if ts != "-" {
			require.LessOrEqual(t, prev, ts)
			prev = ts
			count++
		}
	}
	assert.Equal(t, n, count)
}

func TestUsageAndErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"correlate", "--proxy", "x"}, {"report", orchDir}, {"timeline", "--since", "whenever", orchDir}, {"summary", "--bogus"}} {
		code, _, errOut := debuglog(args...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, errOut, "usage:", "%v", args)
	}
	code, _, errOut := debuglog("summary", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file")
	code, _, errOut = debuglog("summary", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no readable .jsonl files")
	code, _, _ = debuglog("help")
	assert.Equal(t, 0, code)
}

func TestRotatedSegmentsAreOneCategory(t *testing.T) {
	dir := t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: dir, MaxFileBytes: 64 << 10, DisableStress: true}, io.Discard)
	require.NoError(t, err)
	for i := range 2000 {
		l.LogRequest(context.Background(), "GET", "/ace/getstream", time.Duration(i)*time.Millisecond, 200, strings.Repeat("a", 40))
	}
	require.NoError(t, l.Close())
	segments, _ := filepath.Glob(filepath.Join(dir, "*.0*_requests.jsonl"))
	require.NotEmpty(t, segments, "rotated")
	code, out, errOut := debuglog("summary", dir)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `requests +2000 `, out, "segments and the live file make one category")
}

// TestWriteMatchedSample writes the matched proxy session to $DEBUGLOG_SAMPLE
// (for looking at by hand); skipped otherwise.
func TestWriteMatchedSample(t *testing.T) {
	dst := os.Getenv("DEBUGLOG_SAMPLE")
	if dst == "" {
		t.Skip("set DEBUGLOG_SAMPLE=DIR to write the matched proxy session there")
	}
	src := writeProxyFiles(t)
	require.NoError(t, os.MkdirAll(dst, 0o755))
	names, _ := filepath.Glob(filepath.Join(src, "*.jsonl"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, filepath.Base(n)), b, 0o644))
	}
}

// TestSummaryGroupsDisconnectsByReason: disconnects by their reason, and a
// stress event's duration is not counted among the durations again.
func TestSummaryGroupsDisconnectsByReason(t *testing.T) {
	proxy := writeProxyFiles(t)
	code, out, errOut := debuglog("summary", proxy)
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `disconnects +reason=completed +1 +1100\.0`, out)
	assert.NotRegexp(t, `stress +slow_request +1`, out, "stress events are listed as stress events, not durations")
	assert.Regexp(t, `slow_request +warning +1`, out)
}

// TestWriteLargeSample writes a proxy directory of n lines (the library's
// files, about 400,000 lines over an hour with a quiet night before the
// last hour) and the orchestrator's files of the scenario, for measuring
// the report's size and memory: DEBUGLOG_LARGE=DIR go test -run
// TestWriteLargeSample ./internal/debuglog. Skipped otherwise.
func TestWriteLargeSample(t *testing.T) {
	dst := os.Getenv("DEBUGLOG_LARGE")
	if dst == "" {
		t.Skip("set DEBUGLOG_LARGE=DIR to write a 400,000-line proxy directory there")
	}
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: dst, SessionID: "20261126_090000", DisableStress: true, BlockWhenFull: true,
		MaxFileBytes: -1, MaxTotalBytes: -1}, io.Discard)
	require.NoError(t, err)
	h := l.Handler()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	emit := func(at time.Time, level slog.Level, category, msg string, attrs ...slog.Attr) {
		r := slog.NewRecord(at, level, msg, 0)
		r.AddAttrs(slog.String("category", category))
		r.AddAttrs(attrs...)
		require.NoError(t, h.Handle(context.Background(), r))
	}
	const requests = 80_000 // 5 lines each
	for i := range requests {
		at := start.Add(time.Duration(i) * 45 * time.Millisecond) // an hour
		if i > requests*9/10 {
			at = at.Add(12 * time.Hour) // the last tenth the next evening
		}
		id := fmt.Sprintf("r%07d", i)
		d := time.Duration(5+i%50) * time.Millisecond
		status := 200
		if i%997 == 0 {
			status, d = 503, 800*time.Millisecond
		}
		emit(at.Add(-d), slog.LevelDebug, "orchestrator_calls", "orchestrator_call", slog.String("request_id", id), slog.String("method", "GET"),
			slog.String("url", "http://orchestrator:8000/engines"), slog.Int("status_code", 200), slog.Duration("duration", time.Millisecond))
		emit(at.Add(-d/2), slog.LevelDebug, "engine_selection", "engine_selection", slog.String("request_id", id), slog.String("operation", "select_best_engine"),
			slog.String("container_id", fmt.Sprintf("c%04d", i%40)), slog.Duration("duration", d/2))
		emit(at.Add(-d/3), slog.LevelDebug, "streams", "stream_started", slog.String("request_id", id), slog.String("event_type", "stream_started"),
			slog.String("stream_id", id+"|s"), slog.String("engine_id", fmt.Sprintf("c%04d", i%40)))
		emit(at, slog.LevelDebug, "disconnects", "disconnect", slog.String("request_id", id), slog.String("stream_id", id+"|s"), slog.String("reason", "completed"),
			slog.Duration("duration", d/3))
		emit(at, slog.LevelDebug, "requests", "request", slog.String("request_id", id), slog.String("method", "GET"), slog.String("path", "/ace/getstream"),
			slog.Duration("duration", d), slog.Int("status_code", status))
		if i%4000 == 0 {
			emit(at, slog.LevelWarn, "stress", "slow_request", slog.String("request_id", id), slog.String("event_type", "slow_request"),
				slog.String("severity", "warning"), slog.String("description", "Request took 5.5s"), slog.Duration("duration", 5500*time.Millisecond))
		}
	}
	require.NoError(t, l.Close())
}

// writeStorm writes the proxy's side of a storm: storm requests blocked
// by the open circuit breaker 5 ms apart, each with its failed attempt,
// its provisioning_circuit_breaker stress event and its 503, then the
// cooldown's bookkeeping line.
func writeStorm(t *testing.T, storm int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: dir, SessionID: "20261126_101714", DisableStress: true}, io.Discard)
	require.NoError(t, err)
	h := l.Handler()
	base, err := time.Parse(time.RFC3339Nano, "2026-11-26T10:17:16.700Z")
	require.NoError(t, err)
	emit := func(at time.Time, level slog.Level, category, msg string, attrs ...slog.Attr) {
		r := slog.NewRecord(at, level, msg, 0)
		r.AddAttrs(slog.String("category", category))
		r.AddAttrs(attrs...)
		require.NoError(t, h.Handle(context.Background(), r))
	}
	for i := 0; i < storm; i++ {
		at := base.Add(time.Duration(i) * 5 * time.Millisecond)
		id := slog.String("request_id", fmt.Sprintf("req-%d", i))
		cb := slog.String("error", "provisioning blocked (circuit_breaker): Circuit breaker is open")
		emit(at, slog.LevelDebug, "provisioning", "provisioning", id, slog.String("operation", "provision_attempt_failed"), slog.Bool("success", false), cb)
		emit(at, slog.LevelError, "stress", "provisioning_circuit_breaker", id, slog.String("event_type", "provisioning_circuit_breaker"),
			slog.String("severity", "critical"), slog.String("description", "Provisioning blocked by the orchestrator's circuit breaker"), cb)
		emit(at.Add(time.Millisecond), slog.LevelDebug, "requests", "request", id, slog.String("method", "GET"), slog.String("path", "/ace/getstream"),
			slog.Duration("duration", 2*time.Millisecond), slog.Int("status_code", 503))
	}
	emit(base.Add(time.Second), slog.LevelInfo, "stress", "stress_suppressed", slog.String("event_type", "stress_suppressed"),
		slog.String("severity", "info"), slog.String("description", "Held back by the cooldown"))
	require.NoError(t, l.Close())
	return dir
}

// TestCorrelateBriefFoldsAStorm: every per-record stress event is a line of
// the stress file, so an incident writes hundreds of them; --brief shows
// each kind of finding once, with how many more there are, and leaves out
// the cooldown's bookkeeping line.
func TestCorrelateBriefFoldsAStorm(t *testing.T) {
	const storm = 40
	dir := writeStorm(t, storm)
	code, out, errOut := debuglog("correlate", "--brief", "--proxy", dir, "--orch", orchDir)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 1, strings.Count(out, "proxy stress provisioning_circuit_breaker"), out)
	assert.Contains(t, out, fmt.Sprintf("and %d more like it", storm-1))
	assert.NotContains(t, out, "proxy stress stress_suppressed")
	assert.NotContains(t, out, "proxy failed request", "--brief: the stress events only")
	assert.Less(t, strings.Count(out, "\n"), 40, "one screen:\n%s", out)
}

// TestCorrelateGroupsAStormAndListsItWithAll: without --brief a storm is
// one finding too (failed requests included), its causes shown once; --all
// lists every member, a line each with its leading cause; --json still has
// every effect with its causes.
func TestCorrelateGroupsAStormAndListsItWithAll(t *testing.T) {
	const storm = 40
	dir := writeStorm(t, storm)
	for _, tc := range []struct {
		flags   []string
		members int // lines naming a request of the storm, past each finding's first
		lines   int // at most
	}{
		{nil, 0, 60},
		{[]string{"--all"}, 2 * (storm - 1), 60 + 2*storm},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			code, out, errOut := debuglog(append([]string{"correlate", "--proxy", dir, "--orch", orchDir}, tc.flags...)...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, 1, strings.Count(out, "proxy stress provisioning_circuit_breaker"), out)
			assert.Equal(t, 1, strings.Count(out, "proxy failed request"), out)
			assert.Equal(t, 2, strings.Count(out, fmt.Sprintf("and %d more like it (the same leading cause)", storm-1)), out)
			assert.Equal(t, 2, strings.Count(out, "1. 10:17:16.587248  stress          circuit_breaker_opened"), "each finding's causes once:\n%s", out)
			assert.LessOrEqual(t, strings.Count(out, "\n"), tc.lines, out)
			members := 0
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "      10:17:") && strings.Contains(l, "  request req-") {
					members++
					assert.Contains(t, l, "<- 10:17:16.587248 circuit_breaker_opened", "with its leading cause")
				}
			}
			assert.Equal(t, tc.members, members, out)
			if tc.members > 0 {
				assert.Contains(t, out, fmt.Sprintf("      10:17:16.895  provisioning_circuit_breaker  request req-%d  <- ", storm-1))
				assert.Contains(t, out, fmt.Sprintf("      10:17:16.896  GET /ace/getstream -> 503 in 2 ms  request req-%d  <- ", storm-1))
			}
		})
	}
	doc := correlateJSON(t, "--proxy", dir, "--orch", orchDir)
	assert.Len(t, doc.Effects, 2*storm, "--json: every effect, with its causes")
}
