//go:build unix

package debuglog

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// peakRSS runs debuglog in a child process and returns its exit code,
// output and peak resident memory in MiB.
func peakRSS(t *testing.T, args ...string) (int, string, float64) {
	t.Helper()
	c := startChild(t, "", args...)
	code, out := c.wait(t)
	ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	require.True(t, ok)
	rss := float64(ru.Maxrss) / 1024 // KiB
	if runtime.GOOS == "darwin" {
		rss /= 1024 // bytes there
	}
	return code, out, rss
}

// writeDenseOrchestrator writes n orchestrator lines over an hour, half of
// them trouble in one dense 7 s window, and a proxy directory with 300
// stress events and a slow request in that window.
func writeDenseOrchestrator(t *testing.T, n int) (proxy, orch string) {
	t.Helper()
	proxy, orch = t.TempDir(), t.TempDir()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	dense := start.Add(30 * time.Minute)
	cats := []string{"health", "provisioning", "vpn", "circuit_breaker", "stress", "errors"}
	ws := map[string]*bufio.Writer{}
	for _, c := range cats {
		f, err := os.Create(filepath.Join(orch, "20261126_090000_"+c+".jsonl"))
		require.NoError(t, err)
		defer f.Close()
		w := bufio.NewWriter(f)
		defer w.Flush()
		ws[c] = w
	}
	for i := range n {
		at := start.Add(time.Duration(i) * time.Hour / time.Duration(n))
		if i%2 == 0 {
			at = dense.Add(time.Duration(i) * 7 * time.Second / time.Duration(n))
		}
		c := cats[i%len(cats)]
		head := fmt.Sprintf(`{"session_id": "20261126_090000", "timestamp": "%s", "elapsed_seconds": 1.0, `, at.Format("2006-01-02T15:04:05.000000+00:00"))
		switch c {
		case "health":
			fmt.Fprintf(ws[c], `%s"component": "health_monitor_cycle", "container_id": "c%04d", "status": "failed", "duration_ms": 40.0, "error": "engine not answering", "total_engines": 40, "healthy": 38, "unhealthy": 2}`+"\n", head, i%40)
		case "provisioning":
			fmt.Fprintf(ws[c], `%s"operation": "start_acestream_failed", "container_id": "c%04d", "duration_ms": 50.0, "success": false, "error": "VPN not connected", "status": 503, "request_id": "o%08d"}`+"\n", head, i%40, i)
		case "vpn":
			fmt.Fprintf(ws[c], `%s"operation": "health_check", "status": "unhealthy", "duration_ms": 10.0}`+"\n", head)
		case "circuit_breaker":
			fmt.Fprintf(ws[c], `%s"operation_type": "unknown", "state": "open", "failure_count": %d}`+"\n", head, i%6)
		case "stress":
			fmt.Fprintf(ws[c], `%s"event_type": "high_unhealthy_engines", "severity": "warning", "description": "2/40 engines unhealthy", "unhealthy_count": 2, "total": 40}`+"\n", head)
		case "errors":
			fmt.Fprintf(ws[c], `%s"component": "provisioner", "operation": "start_acestream", "error_type": "TimeoutError", "error_message": "container did not become healthy in 25s", "container_id": "c%04d", "traceback": "Traceback (most recent call last):\n  File \"/app/app/services/provisioner.py\", line 30\nTimeoutError: container did not become healthy in 25s\n"}`+"\n", head, i%40)
		}
	}
	var b []byte
	for i := range 300 {
		at := dense.Add(time.Duration(i) * 7 * time.Second / 300)
		b = fmt.Appendf(b, `{"session_id":"20261126_090000","timestamp":"%s","elapsed_seconds":1,"level":"WARN","category":"stress","msg":"provisioning_circuit_breaker","event_type":"provisioning_circuit_breaker","severity":"critical","description":"blocked","request_id":"s%d","container_id":"c%04d","error":"provisioning blocked (circuit_breaker): Circuit breaker is open"}`+"\n",
			at.Format("2006-01-02T15:04:05.000000000Z"), i, i%40)
	}
	require.NoError(t, os.WriteFile(filepath.Join(proxy, "20261126_090000_stress.jsonl"), b, 0o644))
	req := fmt.Sprintf(`{"session_id":"20261126_090000","timestamp":"%s","elapsed_seconds":1,"level":"DEBUG","category":"requests","msg":"request","request_id":"slow-1","method":"GET","path":"/ace/getstream","status_code":503,"duration_ms":7000,"container_id":"c0001"}`+"\n",
		dense.Add(7*time.Second).Format("2006-01-02T15:04:05.000000000Z"))
	require.NoError(t, os.WriteFile(filepath.Join(proxy, "20261126_090000_requests.jsonl"), []byte(req), 0o644))
	return proxy, orch
}

// TestCorrelateAndRequestStayBoundedOnADenseOrchestrator: correlate and
// request on 200,000 orchestrator lines, half of them in one dense 7 s
// window holding 300 proxy stress events and a 7 s request, finish (a
// child process, bounded only against a hang) within a memory bound that
// does not grow with the lines held whole (about 1.1 KB each before).
func TestCorrelateAndRequestStayBoundedOnADenseOrchestrator(t *testing.T) {
	if raceEnabled {
		t.Skip("memory figures under the race detector are not the program's")
	}
	proxy, orch := writeDenseOrchestrator(t, 200_000)
	for _, args := range [][]string{{"correlate", "--proxy", proxy, "--orch", orch}, {"correlate", "--json", "--proxy", proxy, "--orch", orch},
		{"request", "slow-1", "--proxy", proxy, "--orch", orch}} {
		code, out, rss := peakRSS(t, args...)
		require.Equal(t, 0, code, "%v: %.2000s", args, out)
		t.Logf("%v: peak RSS %.0f MiB", args[:2], rss)
		assert.Less(t, rss, 120.0, "%v: peak RSS in MiB", args)
	}
}
