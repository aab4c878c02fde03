package debuglog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequestTellsOneRequestsStory: the slow request of the scenario, across
// both systems in time order, with its largest gap named (the engine
// selection that waited for the orchestrator's slow provisioning) and the
// orchestrator's events that explain it.
func TestRequestTellsOneRequestsStory(t *testing.T) {
	proxy := writeProxyFiles(t)
	code, out, errOut := debuglog("request", "req-c", "--proxy", proxy, "--orch", orchDir, "--json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		RequestID  string  `json:"request_id"`
		DurationMS float64 `json:"duration_ms"`
		Steps      []struct {
			System   string         `json:"system"`
			Name     string         `json:"name"`
			Time     string         `json:"time"`
			OffsetMS float64        `json:"offset_ms"`
			GapMS    float64        `json:"gap_ms"`
			Relation string         `json:"relation"`
			Data     map[string]any `json:"data"`
		} `json:"steps"`
		LargestGap int `json:"largest_gap_step"`
		Slowest    struct {
			Name string `json:"name"`
		} `json:"slowest_step"`
		Effect string `json:"effect"`
		Causes []struct {
			Name  string `json:"name"`
			Match string `json:"match"`
		} `json:"causes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, "req-c", doc.RequestID)
	assert.InDelta(t, 13301, doc.DurationMS, 1, "from its arrival (13.3 s before its answer) to its last event")
	systems := map[string]int{}
	prev := ""
	for _, s := range doc.Steps {
		systems[s.System]++
		assert.LessOrEqual(t, prev, s.Time, "time order")
		prev = s.Time
		if s.System == "proxy" {
			assert.Equal(t, "req-c", s.Data["request_id"], "only the request's own proxy events")
			assert.Empty(t, s.Relation)
		} else {
			assert.NotEmpty(t, s.Relation, "an orchestrator event says how it relates")
		}
	}
	assert.Equal(t, 6, systems["proxy"], "selection, its stress event, the call, the stream, the request, slow_request")
	assert.Positive(t, systems["orchestrator"])
	gap := doc.Steps[doc.LargestGap]
	assert.Equal(t, "select_best_engine", gap.Name, "the largest gap ends at the engine selection")
	assert.Equal(t, "select_best_engine", doc.Slowest.Name)
	assert.Equal(t, "slow_request", doc.Effect)
	require.NotEmpty(t, doc.Causes)
	assert.Equal(t, "container_id", doc.Causes[0].Match)

	code, human, _ := debuglog("request", "req-c", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code)
	assert.Contains(t, human, "request req-c: GET /ace/getstream -> 200 in 13.30 s")
	assert.Contains(t, human, "largest gap: 13.28 s (100% of the request), from the request's arrival to engine_selection select_best_engine: spent inside select_best_engine (it took 13.25 s)")
	assert.Contains(t, human, "meanwhile on the orchestrator:")
	assert.Contains(t, human, "slow_provisioning")
	assert.Contains(t, human, "why it was a slow request")

	// The failed one: its attempts and the orchestrator's failures between.
	code, human, _ = debuglog("request", "req-b", "--proxy", proxy, "--orch", orchDir)
	require.Equal(t, 0, code)
	assert.Contains(t, human, "-> 503 in 625 ms")
	assert.Contains(t, human, `start_acestream_failed duration_ms=50 success=false error="VPN not connected"`)
	assert.Less(t, strings.Index(human, "start_acestream_failed"), strings.Index(human, "provision_attempt_failed"), "the orchestrator failed 12 ms before the proxy logged its attempt")

	code, _, errOut = debuglog("request", "no-such-request", "--proxy", proxy, "--orch", orchDir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `no event carries request_id or trace_id "no-such-request"`)
}

// TestEveryCommandHasItsHelp: -h prints the command's own usage and flags
// on stdout, exit 0; a usage error prints it on stderr, exit 2.
func TestEveryCommandHasItsHelp(t *testing.T) {
	for cmd, flag := range map[string]string{"summary": "", "correlate": "-poll", "timeline": "-follow", "report": "-o", "request": "-within"} {
		code, out, _ := debuglog(cmd, "-h")
		assert.Equal(t, 0, code, cmd)
		assert.Contains(t, out, "usage: debuglog "+cmd, cmd)
		if flag != "" {
			assert.Contains(t, out, flag, cmd)
		}
		code, _, errOut := debuglog(cmd, "--no-such-flag")
		assert.Equal(t, 2, code, cmd)
		assert.Contains(t, errOut, "usage: debuglog "+cmd, cmd)
	}
	code, out, _ := debuglog("help", "request")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: debuglog request")
}

// TestHelpListsEveryCommand: debuglog -h names every command it runs (it
// once left out request), each with its own -h.
func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := debuglog("-h")
	require.Equal(t, 0, code)
	require.Len(t, commands, 6)
	for _, c := range commands {
		assert.Contains(t, out, "\n  debuglog "+c.name+" ", c.name)
		code, help, _ := debuglog(c.name, "-h")
		assert.Equal(t, 0, code, c.name)
		assert.Contains(t, help, "usage: debuglog "+c.name, c.name)
	}
	for _, name := range []string{"summary", "correlate", "request", "timeline", "report", "ship"} {
		assert.Contains(t, out, "debuglog "+name+" ", "the command's synopsis")
	}
	code, _, errOut := debuglog()
	assert.Equal(t, 2, code)
	assert.Equal(t, usage, errOut, "no arguments: the same usage, on stderr")
}
