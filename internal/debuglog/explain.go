package debuglog

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Ways a cause is matched to an effect, strongest first.
const (
	matchRequestID   = "request_id"
	matchContainerID = "container_id"
	matchStreamID    = "stream_id"
	matchState       = "state" // an orchestrator state (breaker open, VPN down) that held during the effect
	matchTopic       = "topic" // same topic, in the causal window
	matchTime        = "time"  // trouble in the causal window, on no shared topic
)

var matchTier = map[string]int{matchRequestID: 0, matchContainerID: 0, matchStreamID: 0, matchState: 1, matchTopic: 2, matchTime: 3}

// idKeys are the fields that identify the same thing on both sides; the
// proxy's engine_id is the orchestrator's container_id.
var idKeys = []struct {
	match       string
	orchFields  []string
	proxyFields []string
}{
	{matchRequestID, []string{"request_id"}, []string{"request_id"}},
	{matchContainerID, []string{"container_id"}, []string{"container_id", "engine_id"}},
	{matchStreamID, []string{"stream_id"}, []string{"stream_id"}},
}

// effect is something that went wrong on the proxy: a stress event, or a
// failed or slow request. It spans [start, end]: a request from its
// arrival to its answer.
type effect struct {
	ev         *Event
	kind       string // stress, failed_request, slow_request
	start, end time.Time
	topics     topicSet
	ids        map[string][]string // match -> values (its own and its request's steps')
}

func (e *effect) addID(match, v string) {
	if v == "" {
		return
	}
	if e.ids == nil {
		e.ids = map[string][]string{}
	}
	for _, x := range e.ids[match] {
		if x == v {
			return
		}
	}
	e.ids[match] = append(e.ids[match], v)
}

// addIDs records the IDs an event carries.
func (e *effect) addIDs(ev *Event) {
	for _, k := range idKeys {
		for _, f := range k.proxyFields {
			e.addID(k.match, ev.str(f))
		}
	}
}

// cause is an orchestrator event that plausibly caused an effect.
type cause struct {
	ev      *Event
	match   string
	key     string // the shared ID, or the state's name
	reason  string
	score   int           // topic overlap (the effect's main topic counts twice)
	lead    time.Duration // effect start minus cause time (negative: the cause came after the start)
	similar int           // more events like it, folded into this one
	dist    time.Duration
	state   *stateSpan // the state, for a state match
}

// folded is the cause's event and those folded into it (a state's other
// openers).
func (c *correlator) folded(e *effect, cs cause) []*Event {
	if cs.state != nil {
		return cs.state.openers
	}
	return []*Event{cs.ev}
}

// stateSpan is an orchestrator state that holds for a while: the circuit
// breaker open, the VPN down. Effects during it are explained by the
// events that opened it, however long before.
type stateSpan struct {
	topic   string
	openers []*Event
	end     time.Time // zero: still open at the end of the files
	closer  *Event    // the event that ended it
}

// correlator explains the proxy's effects with the orchestrator's events.
type correlator struct {
	orch      []*Event // time order
	byID      map[[2]string][]*Event
	states    []*stateSpan
	within    time.Duration // clock skew and processing: how far after the effect a cause may be logged
	poll      time.Duration // the proxy's health-poll interval: how stale its view may be
	horizon   time.Duration // how far back an ID match may go
	maxCauses int
}

func newCorrelator(orch []*Event, within, poll time.Duration, maxCauses int) *correlator {
	sort.SliceStable(orch, func(i, j int) bool { return orch[i].Time.Before(orch[j].Time) })
	c := &correlator{orch: orch, byID: map[[2]string][]*Event{}, within: within, poll: poll, horizon: sightingHorizon, maxCauses: maxCauses}
	for _, ev := range orch {
		for _, k := range idKeys {
			for _, f := range k.orchFields {
				if v := ev.str(f); v != "" {
					c.byID[[2]string{k.match, v}] = append(c.byID[[2]string{k.match, v}], ev)
				}
			}
		}
	}
	c.states = findStates(orch)
	return c
}

// findStates follows the circuit breaker and the VPN through the
// orchestrator's events.
func findStates(orch []*Event) []*stateSpan {
	var spans []*stateSpan
	open := map[string]*stateSpan{}
	for _, ev := range orch {
		topic, opens, closes := stateChange(ev)
		if topic == "" {
			continue
		}
		s := open[topic]
		switch {
		case opens && s == nil:
			s = &stateSpan{topic: topic, openers: []*Event{ev}}
			open[topic] = s
			spans = append(spans, s)
		case opens && len(s.openers) < 4 && ev.Time.Sub(s.openers[0].Time) < time.Second:
			s.openers = append(s.openers, ev) // the same opening, logged in several files
		case closes && s != nil:
			s.end, s.closer = ev.Time, ev
			delete(open, topic)
		}
	}
	return spans
}

// stateChange says whether an orchestrator event opens or closes a state.
func stateChange(ev *Event) (topic string, opens, closes bool) {
	name := ev.name()
	switch {
	case ev.Category == "circuit_breaker":
		st := ev.str("state")
		return topicCircuitBreaker, st == "open", st == "closed" || st == "half_open"
	case ev.Category == "stress" && strings.HasPrefix(name, "circuit_breaker_") && strings.Contains(name, "open"):
		return topicCircuitBreaker, true, false
	case ev.Category == "vpn":
		st := firstNonEmpty(ev.str("new_status"), ev.str("status"))
		if name == "health_check" || name == "transition" {
			return topicVPN, st == "unhealthy", st == "healthy"
		}
	case ev.Category == "stress" && strings.HasPrefix(name, "vpn_"):
		return topicVPN, true, false
	}
	return "", false, false
}

// window is where causes of an effect are looked for: from the causal
// lead (within, widened by the health-poll interval) before the effect
// began, to within after it ended.
func (c *correlator) window(e *effect) (time.Time, time.Time) {
	return e.start.Add(-c.within - c.poll), e.end.Add(c.within)
}

// explain ranks the orchestrator events that plausibly caused an effect:
// by shared ID first, then states that held during it, then events on its
// topics in the causal window, then trouble at the same time.
func (c *correlator) explain(e *effect, timeToo bool) []cause {
	found := map[*Event]*cause{}
	var state *stateSpan
	consider := func(ev *Event, match, key, reason string) {
		if prev := found[ev]; prev != nil && matchTier[prev.match] <= matchTier[match] {
			return
		}
		cs := &cause{ev: ev, match: match, key: key, reason: reason, score: c.score(e, ev), lead: e.start.Sub(ev.Time)}
		if match == matchState {
			cs.state = state
		}
		cs.dist = distance(ev.Time, e.start, e.end)
		found[ev] = cs
	}
	// 1. Shared IDs, within the horizon before the effect and not after it.
	for _, k := range idKeys {
		for _, v := range e.ids[k.match] {
			for _, ev := range c.byID[[2]string{k.match, v}] {
				if ev.Time.Before(e.start.Add(-c.horizon)) || ev.Time.After(e.end.Add(c.within)) {
					continue
				}
				if !adverse(ev) && ev.Time.Before(e.start.Add(-c.within)) {
					continue // routine, and before the effect began: the container's start, long ago
				}
				consider(ev, k.match, v, "same "+k.match+" "+v)
			}
		}
	}
	if timeToo {
		from, to := c.window(e)
		// 2. States that held during the effect, on its topics.
		for _, s := range c.states {
			if !e.topics.has(s.topic) || s.openers[0].Time.After(to) || (!s.end.IsZero() && s.end.Before(e.start.Add(-c.within))) {
				continue
			}
			state = s
			for _, ev := range s.openers {
				consider(ev, matchState, s.topic, stateReason(s, e))
			}
		}
		// A recovery: the states that ended in the window.
		if strings.Contains(e.ev.name(), "recover") {
			for _, s := range c.states {
				if s.closer != nil && !s.end.Before(from) && !s.end.After(to) {
					what := map[string]string{topicCircuitBreaker: "circuit breaker closed", topicVPN: "VPN back"}[s.topic]
					consider(s.closer, matchState, s.topic, what+" at "+s.end.Format("15:04:05.000")+", "+leadText(s.end, e))
				}
			}
		}
		// 3 and 4. Trouble in the causal window.
		i := sort.Search(len(c.orch), func(i int) bool { return !c.orch[i].Time.Before(from) })
		for ; i < len(c.orch) && !c.orch[i].Time.After(to); i++ {
			ev := c.orch[i]
			if !adverse(ev) {
				continue
			}
			if shared := topicsOf(ev).overlap(e.topics); shared > 0 {
				consider(ev, matchTopic, "", "same topic ("+strings.Join(sharedTopics(topicsOf(ev), e.topics), ", ")+"), "+leadText(ev.Time, e))
			} else if weight(ev) >= 2 && !ev.Time.After(e.end) {
				consider(ev, matchTime, "", "at the same time, on another topic, "+leadText(ev.Time, e))
			}
		}
	}
	all := make([]*cause, 0, len(found))
	for _, cs := range found {
		all = append(all, cs)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if matchTier[a.match] != matchTier[b.match] {
			return matchTier[a.match] < matchTier[b.match]
		}
		if a.score != b.score {
			return a.score > b.score
		}
		if wa, wb := weight(a.ev), weight(b.ev); wa != wb {
			return wa > wb
		}
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		return a.ev.Time.Before(b.ev.Time)
	})
	// Fold repeats (five circuit_breaker failure counts) into the best one.
	var out []cause
	seen := map[string]int{}
	for _, cs := range all {
		key := cs.match + "\x00" + cs.ev.Category + "\x00" + cs.ev.name() + "\x00" + cs.ev.str("state")
		if cs.match == matchState {
			key = cs.match + "\x00" + cs.key // one state, logged in several files
		}
		if i, ok := seen[key]; ok {
			out[i].similar++
			continue
		}
		if len(out) == c.maxCauses {
			continue
		}
		seen[key] = len(out)
		out = append(out, *cs)
	}
	return out
}

// score is how many topics a cause shares with the effect, its main topic
// counting twice.
func (c *correlator) score(e *effect, ev *Event) int {
	ts := topicsOf(ev)
	n := ts.overlap(e.topics)
	if len(e.topics) > 0 && ts.has(e.topics[0]) {
		n += 2
	}
	return n
}

func sharedTopics(a, b topicSet) []string {
	var out []string
	for _, t := range a {
		if b.has(t) {
			out = append(out, t)
		}
	}
	return out
}

// distance is how far t is from [start, end]: 0 inside, and twice the
// distance after it (a cause logged after its effect is less likely).
func distance(t, start, end time.Time) time.Duration {
	switch {
	case t.Before(start):
		return start.Sub(t)
	case t.After(end):
		return 2 * t.Sub(end)
	}
	return 0
}

// leadText says when a cause happened relative to the effect.
func leadText(t time.Time, e *effect) string {
	switch {
	case t.Before(e.start):
		return fmtDur(e.start.Sub(t)) + " before"
	case t.After(e.end):
		return fmtDur(t.Sub(e.end)) + " after (clock skew?)"
	case e.start.Equal(e.end):
		return "at the same time"
	}
	return fmtDur(t.Sub(e.start)) + " into it"
}

func stateReason(s *stateSpan, e *effect) string {
	what := map[string]string{topicCircuitBreaker: "circuit breaker open", topicVPN: "VPN down"}[s.topic]
	r := what + " since " + s.openers[0].Time.Format("15:04:05.000")
	if s.end.IsZero() {
		r += " (no recovery logged)"
	} else {
		r += " until " + s.end.Format("15:04:05.000")
	}
	return r + ", " + leadText(s.openers[0].Time, e)
}

// fmtDur prints a duration for people: 12 ms, 1.25 s, 3m20s.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Minute:
		ms := float64(d) / 1e6
		if ms < 1000 {
			return fmt.Sprintf("%.0f ms", ms)
		}
		return fmt.Sprintf("%.2f s", ms/1000)
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// sightingHorizon is how far before an effect an event sharing its ID still
// counts (a container provisioned minutes ago).
const sightingHorizon = 5 * time.Minute
