package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/slogdebug"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// orchDir holds the orchestrator's real debug files of a scenario:
// provisioning, a VPN drop, the circuit breaker opening, a slow provisioning.
const orchDir = "testdata/orchestrator-logs"

// debuglog runs a command line and returns its exit code and outputs.
func debuglog(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeProxyFiles writes, with the library, the proxy's side of the
// orchestrator scenario in testdata: the same minutes, the same container.
func writeProxyFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, SessionID: "20261126_101714", DisableStress: true}, io.Discard)
	require.NoError(t, err)
	h := l.Handler()
	emit := func(at, category, msg string, attrs ...slog.Attr) {
		ts, err := time.Parse(time.RFC3339Nano, "2026-11-26T"+at+"Z")
		require.NoError(t, err)
		r := slog.NewRecord(ts, slog.LevelDebug, msg, 0)
		r.AddAttrs(slog.String("category", category))
		r.AddAttrs(attrs...)
		require.NoError(t, h.Handle(context.Background(), r))
	}
	ms := func(n float64) slog.Attr {
		return slog.Duration("duration", time.Duration(n*float64(time.Millisecond)))
	}
	emit("10:17:15.680", "requests", "request", slog.String("method", "GET"), slog.String("path", "/ace/getstream"), ms(5.2), slog.Int("status_code", 200), slog.String("request_id", "req-1"))
	emit("10:17:16.190", "provisioning", "provisioning", slog.String("operation", "provision_success"), ms(512), slog.Bool("success", true), slog.Int("retry_count", 0), slog.String("request_id", "req-2"))
	emit("10:17:16.192", "engine_selection", "engine_selection", slog.String("operation", "select_best_engine"), slog.String("container_id", "3f2a9c1be0d4"), ms(515), slog.String("request_id", "req-2"))
	emit("10:17:16.300", "streams", "stream_started", slog.String("event_type", "stream_started"), slog.String("stream_id", "abc|s1"), slog.String("engine_id", "3f2a9c1be0d4"), ms(3))
	emit("10:17:16.590", "provisioning", "provisioning", slog.String("operation", "provision_attempt_failed"), ms(4), slog.Bool("success", false),
		slog.String("error", "provisioning blocked (vpn_disconnected): VPN is disconnected"), slog.Int("retry_count", 1))
	emit("10:17:16.800", "orchestrator_health", "orchestrator_health", slog.String("status", "degraded"), slog.String("blocked_reason", "Circuit breaker is open"),
		slog.String("blocked_reason_code", "circuit_breaker"), slog.Bool("vpn_connected", true))
	emit("10:17:16.801", "stress", "orchestrator_degraded", slog.String("event_type", "orchestrator_degraded"), slog.String("severity", "warning"),
		slog.String("description", "Orchestrator is degraded: Circuit breaker is open"), slog.String("blocked_reason_code", "circuit_breaker"))
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

func TestCorrelatePairsTheScenario(t *testing.T) {
	proxy := writeProxyFiles(t)
	code, out, errOut := debuglog("correlate", "--proxy", proxy, "--orch", orchDir, "--json")
	require.Equal(t, 0, code, errOut)
	type side struct {
		File string         `json:"file"`
		Line int            `json:"line"`
		Data map[string]any `json:"data"`
	}
	type pairJSON struct {
		Match  string  `json:"match"`
		Key    string  `json:"key"`
		Topic  string  `json:"topic"`
		DiffMS float64 `json:"diff_ms"`
		Orch   side    `json:"orchestrator"`
		Proxy  side    `json:"proxy"`
	}
	var pairs []pairJSON
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var p pairJSON
		require.NoError(t, dec.Decode(&p))
		pairs = append(pairs, p)
	}
	find := func(match, orchName, proxyName string) (float64, bool) {
		for _, p := range pairs {
			on := firstNonEmpty(str(p.Orch.Data, "event_type"), str(p.Orch.Data, "operation"), str(p.Orch.Data, "state"))
			pn := firstNonEmpty(str(p.Proxy.Data, "event_type"), str(p.Proxy.Data, "operation"), str(p.Proxy.Data, "status"), str(p.Proxy.Data, "msg"))
			if p.Match == match && on == orchName && pn == proxyName {
				return p.DiffMS, true
			}
		}
		return 0, false
	}
	// By container ID: the orchestrator started the container the proxy selected.
	d, ok := find("container_id", "start_acestream_success", "select_best_engine")
	require.True(t, ok, "pairs: %s", out)
	assert.InDelta(t, 5.802, d, 0.001, "proxy 10:17:16.192 - orchestrator 10:17:16.186198")
	// By time: the VPN dropping on the orchestrator, the proxy's provisioning failing on it.
	d, ok = find("time", "unhealthy", "provision_attempt_failed")
	if !ok {
		d, ok = find("time", "health_check", "provision_attempt_failed")
	}
	require.True(t, ok, "VPN pair: %s", out)
	assert.InDelta(t, 3.4, d, 0.1)
	// The circuit breaker opening vs the proxy seeing the orchestrator degraded.
	_, ok = find("time", "circuit_breaker_opened", "degraded") // the proxy's health poll
	assert.True(t, ok, "circuit breaker pair: %s", out)
	for _, p := range pairs {
		assert.NotEmpty(t, p.Orch.File)
		assert.Positive(t, p.Proxy.Line)
	}

	code, human, _ := debuglog("correlate", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code)
	assert.Contains(t, human, "circuit breaker opened at 10:17:16.587")
	assert.Contains(t, human, "the proxy first saw it at 10:17:16.800")
	assert.Contains(t, human, "VPN trouble at 10:17:16.586")
	assert.Contains(t, human, "provisioning 3f2a9c1be0d4: the orchestrator took 520 ms")

	// A narrower window pairs less by time, the same by ID.
	_, narrow, _ := debuglog("correlate", "--proxy", proxy, "--orch", orchDir, "--within", "1ms", "--json")
	assert.NotContains(t, narrow, `"match":"time","topic":"circuit_breaker"`)
	assert.Contains(t, narrow, `"match":"container_id"`)
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
	require.Len(t, lines, 26+10, "every line of both systems (proxy: 8 records and session start/end)")
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
	const n = 200_000
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
	assert.Regexp(t, `requests +200000 `, out)
	assert.Regexp(t, `requests +/p +200000 +11\.0 +111\.0 +111\.0 +111\.0`, out)
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

func TestReportIsSelfContained(t *testing.T) {
	proxy := writeProxyFiles(t)
	out := filepath.Join(t.TempDir(), "report.html")
	code, stdout, errOut := debuglog("report", "--proxy", proxy, "--orch", orchDir, "-o", out)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "wrote "+out)
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	html := string(page)
	assert.NotRegexp(t, `(?i)(src|href)\s*=\s*["']?(https?:)?//`, html, "nothing loaded from the network")
	assert.NotContains(t, html, "/*DATA*/null")
	assert.Contains(t, html, "orchestrator / circuit_breaker")
	assert.Contains(t, html, "proxy / orchestrator_health")
}

// TestReportRendersInABrowser loads the report in headless Chromium and
// checks what its script drew: a lane per system and category, every event,
// the stress marks.
func TestReportRendersInABrowser(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium on this machine: .ci/run installs Debian's chromium package; apt-get install chromium to run this here")
	}
	proxy := writeProxyFiles(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	code, _, errOut := debuglog("report", "--proxy", proxy, "--orch", orchDir, "-o", out)
	require.Equal(t, 0, code, errOut)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--dump-dom", "file://"+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish in 60s: %s", stderr.String())
	}
	require.NoError(t, err, stderr.String())
	rendered := string(dom)
	require.Contains(t, rendered, `data-rendered="true"`, "the script ran")
	lanes := regexp.MustCompile(`class="lane" data-lane="([^"]+)"`).FindAllStringSubmatch(rendered, -1)
	var names []string
	for _, m := range lanes {
		names = append(names, m[1])
	}
	assert.Contains(t, names, "orchestrator / circuit_breaker")
	assert.Contains(t, names, "orchestrator / vpn")
	assert.Contains(t, names, "proxy / provisioning")
	assert.Contains(t, names, "proxy / stress")
	assert.Len(t, names, 8+8, "8 orchestrator categories and 8 proxy ones")
	assert.Contains(t, rendered, `data-events="36"`)
	assert.Contains(t, rendered, `data-stress="5"`, "4 orchestrator stress events and the proxy's one")
	assert.Regexp(t, `<path class="stress critical"`, rendered)
	assert.Regexp(t, `<rect class="bar proxy"`, rendered)
}

func TestRotatedSegmentsAreOneCategory(t *testing.T) {
	dir := t.TempDir()
	l, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, MaxFileBytes: 64 << 10, DisableStress: true}, io.Discard)
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
