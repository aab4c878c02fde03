package debuglog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const scenarioTrace = "20261126_101714_execution_trace_001.trace"

// TestRequestLinksItsExecutionTrace: the slow request's story names the
// execution trace snapshot of its slow_request line, beside its file, and
// how to open it.
func TestRequestLinksItsExecutionTrace(t *testing.T) {
	proxy := writeProxyFiles(t)
	want := filepath.Join(proxy, scenarioTrace)
	code, out, errOut := debuglog("request", "req-c", "--proxy", proxy, "--orch", orchDir, "--json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		ExecutionTraces []string `json:"execution_traces"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, []string{want}, doc.ExecutionTraces)

	code, out, errOut = debuglog("request", "req-c", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "execution trace of the seconds before its stress event: "+want+"\n")
	assert.Contains(t, out, "  go tool trace "+want+"   (its task is of type \"request\", with a log request_id=req-c)\n")

	code, out, errOut = debuglog("request", "req-b", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "execution trace", "a request whose events name none")
}

// TestReportLinksExecutionTraces: the report's slow_request event links its
// snapshot, relative to the page.
func TestReportLinksExecutionTraces(t *testing.T) {
	proxy := writeProxyFiles(t)
	out := filepath.Join(t.TempDir(), "report.html")
	code, _, errOut := debuglog("report", "--proxy", proxy, "--orch", orchDir, "-o", out)
	require.Equal(t, 0, code, errOut)
	data := reportDataOf(t, out)
	require.Len(t, data.Traces, 1)
	for idx, link := range data.Traces {
		i, err := strconv.Atoi(idx)
		require.NoError(t, err)
		assert.Equal(t, "slow_request", data.Names[data.N[i]])
		assert.Equal(t, filepath.Join(proxy, scenarioTrace), link.Path)
		rel, err := filepath.Rel(filepath.Dir(out), filepath.Join(proxy, scenarioTrace))
		require.NoError(t, err)
		assert.Equal(t, filepath.ToSlash(rel), link.Href, "relative to the page")
	}
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(page), "go tool trace ", "the page says how to open it")
}

func TestExecutionTraceStaysInTheDirectory(t *testing.T) {
	for name, want := range map[string]string{
		scenarioTrace:             filepath.Join("d", scenarioTrace),
		"../x.trace":              "",
		"/etc/passwd":             "",
		`..\x.trace`:              "",
		"x.jsonl":                 "",
		"":                        "",
		"..":                      "",
		"a_execution_trace.trace": filepath.Join("d", "a_execution_trace.trace"),
	} {
		ev := &Event{File: filepath.Join("d", "s_stress.jsonl"), Fields: map[string]any{"execution_trace": name}}
		assert.Equal(t, want, executionTrace(ev), name)
	}
	assert.Equal(t, "./a%20b/x.trace", linkFrom("/r", "/r/a b/x.trace"))
	assert.Equal(t, "../d/x.trace", linkFrom("/r/s", "/r/d/x.trace"))
}
