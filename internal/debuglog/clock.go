package debuglog

import (
	"fmt"
	"strings"
	"time"
)

// clockBound is what the files say of the two systems' clocks: the
// orchestrator's clock minus the proxy's lies in [lo, hi], measured from
// requests both logged. The orchestrator's first event of a request
// happened during the proxy's first provisioning call for it (that call is
// what made the orchestrator act), so each such request bounds the offset:
// its first event, in the orchestrator's clock, minus the call's end and
// start, in the proxy's.
type clockBound struct {
	pairs  int           // requests both logged
	lo, hi time.Duration // the offset's bounds, once pairs > 0
	// disagree: the requests bound no offset together (lo > hi): a call
	// retried unlogged, a clock that stepped. The bounds mean nothing then.
	disagree bool
}

// firstCalls collects, per request, the proxy's first provisioning call:
// its start and end.
type firstCalls map[string][2]time.Time

// add notes a proxy event when it is a provisioning call of a request
// (the provisioning category's attempts, or an orchestrator call to
// /provision) with a duration.
func (fc firstCalls) add(ev *Event) {
	id := ev.str("request_id")
	d, ok := ev.durationMS()
	if id == "" || !ok || ev.Time.IsZero() {
		return
	}
	switch {
	case ev.Category == "provisioning" && strings.HasPrefix(ev.str("operation"), "provision_"):
	case ev.Category == "orchestrator_calls" && strings.Contains(ev.str("url"), "/provision"):
	default:
		return
	}
	start := ev.Time.Add(-time.Duration(d * float64(time.Millisecond)))
	if c, ok := fc[id]; !ok || start.Before(c[0]) {
		fc[id] = [2]time.Time{start, ev.Time}
	}
}

// measureClocks bounds the orchestrator's clock offset from the requests
// whose first provisioning call the proxy logged and whose events the
// index holds (their IDs were wanted).
func measureClocks(calls firstCalls, ix *orchIndex) clockBound {
	var b clockBound
	for id, call := range calls {
		list := ix.byID[[2]string{matchRequestID, id}] // in time order
		if len(list) == 0 {
			continue
		}
		first := ix.ev(list[0]).at
		lo, hi := time.Duration(first-nanos(call[1])), time.Duration(first-nanos(call[0]))
		if b.pairs == 0 {
			b.lo, b.hi = lo, hi
		} else {
			b.lo, b.hi = max(b.lo, lo), min(b.hi, hi)
		}
		b.pairs++
	}
	b.disagree = b.pairs > 0 && b.lo > b.hi
	return b
}

// known says whether the bound holds: measured, and consistent.
func (b clockBound) known() bool { return b.pairs > 0 && !b.disagree }

// skewCouldExplain says whether clock skew could put a cause logged
// after an effect ended before that end: never between two events of one
// system (one clock), nor for less than a millisecond (the order in which
// two processes write is that loose anyway); across systems, unless the
// clocks are known to agree more closely than that.
func (b clockBound) skewCouldExplain(causeSystem, effectSystem string, after time.Duration) bool {
	if causeSystem == effectSystem || after < time.Millisecond {
		return false
	}
	return !b.known() || b.hi >= after
}

// text says what the bound is, for people.
func (b clockBound) text() string {
	switch {
	case b.pairs == 0:
		return `clocks: not measured (no request's ID is in both systems' files): a cause logged after its effect is asked about ("clock skew?")`
	case b.disagree:
		return fmt.Sprintf("clocks: the %s both systems logged bound no common offset (a retry not logged, a clock that stepped?): an event logged after an effect may be clock skew",
			plural(b.pairs, "request"))
	}
	var where string
	switch {
	case b.lo > 0:
		where = fmt.Sprintf("ahead of the proxy's by %s to %s", fmtDur(b.lo), fmtDur(b.hi))
	case b.hi < 0:
		where = fmt.Sprintf("behind the proxy's by %s to %s", fmtDur(-b.hi), fmtDur(-b.lo))
	default:
		where = fmt.Sprintf("between %s behind and %s ahead of the proxy's", fmtDur(-b.lo), fmtDur(b.hi))
	}
	return fmt.Sprintf("clocks: the orchestrator's is %s (from %s both systems logged: the orchestrator's first event of each falls within the proxy's first provisioning call for it)",
		where, plural(b.pairs, "request"))
}

// clockJSON is the bound in --json.
type clockJSON struct {
	Pairs    int     `json:"requests"`
	MinMS    float64 `json:"offset_min_ms"` // the orchestrator's clock minus the proxy's, at least
	MaxMS    float64 `json:"offset_max_ms"` // and at most
	Disagree bool    `json:"disagree,omitempty"`
}

func (b clockBound) toJSON() *clockJSON {
	if b.pairs == 0 {
		return nil
	}
	return &clockJSON{Pairs: b.pairs, MinMS: ms(b.lo), MaxMS: ms(b.hi), Disagree: b.disagree}
}
