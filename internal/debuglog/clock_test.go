package debuglog

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClockSkewIsAskedOnlyWhereItCouldBe: "(clock skew?)" follows a cause
// logged after its effect only where skew could explain it: across
// systems, by a millisecond or more, and beyond what the requests both
// systems logged say of their clocks.
func TestClockSkewIsAskedOnlyWhereItCouldBe(t *testing.T) {
	agree := clockBound{pairs: 150, lo: -500 * time.Microsecond, hi: 500 * time.Microsecond}
	ahead := clockBound{pairs: 3, lo: 290 * time.Millisecond, hi: 310 * time.Millisecond}
	for _, tc := range []struct {
		name          string
		clock         clockBound
		cause, effect string
		after         time.Duration
		want          bool
	}{
		{"two events of one system: one clock", clockBound{}, systemProxy, systemProxy, time.Second, false},
		{"two events of the orchestrator", clockBound{}, systemOrch, systemOrch, time.Second, false},
		{"across systems, clocks unknown", clockBound{}, systemOrch, systemProxy, 2 * time.Millisecond, true},
		{"across systems, under a millisecond", clockBound{}, systemOrch, systemProxy, 200 * time.Microsecond, false},
		{"clocks known to agree within 0.5 ms: 2 ms after is after", agree, systemOrch, systemProxy, 2 * time.Millisecond, false},
		{"the orchestrator 300 ms ahead: 100 ms after may be before", ahead, systemOrch, systemProxy, 100 * time.Millisecond, true},
		{"the orchestrator 300 ms ahead: 400 ms after is after", ahead, systemOrch, systemProxy, 400 * time.Millisecond, false},
		{"requests that bound no offset: unknown", clockBound{pairs: 2, lo: time.Second, hi: -time.Second, disagree: true}, systemOrch, systemProxy, 2 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.clock.skewCouldExplain(tc.cause, tc.effect, tc.after))
		})
	}
}

// TestClocksAreMeasuredFromRequestsBothLogged: the orchestrator's first
// event of a request falls within the proxy's first provisioning call for
// it; correlate says what that bounds, and a cause logged 1.4 ms after its
// effect is said to be after it, not clock skew, when the clocks are known
// to agree within half a millisecond. Without such requests it asks.
func TestClocksAreMeasuredFromRequestsBothLogged(t *testing.T) {
	proxy, orch := writeIncident(t)
	doc := correlateJSON(t, "--proxy", proxy, "--orch", orch, "--poll", "200ms")
	require.NotNil(t, doc.Clock)
	assert.Equal(t, 2, doc.Clock.Requests)
	assert.InDelta(t, -0.5, doc.Clock.MinMS, 1e-9)
	assert.InDelta(t, 0.5, doc.Clock.MaxMS, 1e-9)
	code, out, errOut := debuglog("correlate", "--proxy", proxy, "--orch", orch, "--poll", "200ms", "--max", "10")
	require.Equal(t, 0, code, errOut)
	// r1: first event 20.010000 within the call 20.0095-20.0115; r2:
	// 20.050000 within 20.0495-20.0505.
	assert.Contains(t, out, "clocks: the orchestrator's is between 0.50 ms behind and 0.50 ms ahead of the proxy's (from 2 requests both systems logged")
	assert.Contains(t, out, "same topic (provisioning, circuit_breaker), 1 ms after\n", "r3's failure, 1.4 ms after r2's stress event")
	assert.NotContains(t, out, "clock skew?")

	// The proxy's provisioning lines left out: nothing says the clocks agree.
	var lines []string
	for _, l := range incidentProxy {
		if !strings.Contains(l, `"category":"provisioning"`) {
			lines = append(lines, l)
		}
	}
	code, out, errOut = debuglog("correlate", "--proxy", writeLines(t, lines), "--orch", orch, "--poll", "200ms", "--max", "10")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "clocks: not measured (no request's ID is in both systems' files)")
	assert.Contains(t, out, "1 ms after (clock skew?)")
}

// TestMeasureClocks: each request bounds the offset; together they narrow
// it; requests that bound none together are said to disagree.
func TestMeasureClocks(t *testing.T) {
	base := time.Date(2026, 11, 26, 10, 17, 20, 0, time.UTC)
	at := func(ms float64) time.Time { return base.Add(time.Duration(ms * float64(time.Millisecond))) }
	for _, tc := range []struct {
		name   string
		calls  [][2]float64 // per request: the proxy's call, ms
		orch   []float64    // per request: the orchestrator's first event, ms
		lo, hi float64
		bad    bool
	}{
		{"one request", [][2]float64{{10, 20}}, []float64{12}, -8, 2, false},
		{"two narrow it", [][2]float64{{10, 20}, {100, 104}}, []float64{12, 101}, -3, 1, false},
		{"the orchestrator 300 ms ahead", [][2]float64{{10, 20}, {100, 104}}, []float64{312, 401}, 297, 301, false},
		{"no common offset", [][2]float64{{10, 20}, {100, 104}}, []float64{12, 300}, 196, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := newOrchIndex(nil)
			fi := ix.addFile(file{system: systemOrch})
			calls := firstCalls{}
			for i, c := range tc.calls {
				id := fmt.Sprintf("r%d", i)
				calls[id] = [2]time.Time{at(c[0]), at(c[1])}
				ix.add(fi, &Event{System: systemOrch, Category: "provisioning", Time: at(tc.orch[i]), Fields: map[string]any{"request_id": id, "operation": "start_acestream_begin"}})
			}
			ix.sort()
			b := measureClocks(calls, ix)
			assert.Equal(t, len(tc.calls), b.pairs)
			assert.Equal(t, tc.bad, b.disagree)
			assert.InDelta(t, tc.lo, ms(b.lo), 1e-9)
			assert.InDelta(t, tc.hi, ms(b.hi), 1e-9)
		})
	}
}
