package debuglog

import (
	"fmt"
	"math/bits"
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
	idx     int32  // the event in the index
	ev      *Event // the whole event, once filled (fill)
	match   string
	key     string // the shared ID, or the state's name
	reason  string
	why     func() string // the reason, made once the cause is chosen
	score   int           // topic overlap (the effect's main topic counts twice)
	lead    time.Duration // effect start minus cause time (negative: the cause came after the start)
	similar int           // more events like it, folded into this one
	dist    time.Duration
	state   *stateSpan // the state, for a state match
}

// folded is the cause's event and those folded into it (a state's other
// openers).
func (c *correlator) folded(cs cause) []int32 {
	if cs.state != nil {
		return cs.state.openers
	}
	return []int32{cs.idx}
}

// fill reads the whole events of causes (for output).
func (c *correlator) fill(causes []cause) {
	for i := range causes {
		causes[i].ev = c.ix.event(causes[i].idx)
	}
}

// stateSpan is an orchestrator state that holds for a while: the circuit
// breaker open, the VPN down. Effects during it are explained by the
// events that opened it, however long before.
type stateSpan struct {
	topic   string
	openers []int32   // in the index
	end     time.Time // zero: still open at the end of the files
	closer  int32     // the event that ended it, -1 none
}

// correlator explains the proxy's effects with the orchestrator's events
// (an index of them: orchIndex).
type correlator struct {
	ix        *orchIndex
	within    time.Duration // clock skew and processing: how far after the effect a cause may be logged
	poll      time.Duration // the proxy's health-poll interval: how stale its view may be
	horizon   time.Duration // how far back an ID match may go
	maxCauses int
	// weighed bounds the work per effect: of the trouble in its window,
	// the maxWeighed events nearest to it are weighed, the rest counted.
	maxWeighed int
	// clock is what the files say of the orchestrator's clock offset.
	clock clockBound
}

// maxWeighed is how many events of an effect's causal window are weighed
// at most (the nearest): a window of a million events costs no more than
// one of this many.
const maxWeighed = 2000

func newCorrelator(ix *orchIndex, within, poll time.Duration, maxCauses int) *correlator {
	ix.sort()
	return &correlator{ix: ix, within: within, poll: poll, horizon: sightingHorizon, maxCauses: maxCauses, maxWeighed: maxWeighed}
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
// topics in the causal window, then trouble at the same time. The causes
// hold their index; fill reads their whole events.
func (c *correlator) explain(e *effect, timeToo bool) []cause {
	ix := c.ix
	found := map[int32]*cause{}
	var state *stateSpan
	emask, emain := topicMask(e.topics), uint8(0)
	if len(e.topics) > 0 {
		emain = topicMask(e.topics[:1])
	}
	startNs, endNs := nanos(e.start), nanos(e.end)
	consider := func(i int32, match, key string, why func() string) {
		if prev := found[i]; prev != nil && matchTier[prev.match] <= matchTier[match] {
			return
		}
		o := ix.ev(i)
		cs := &cause{idx: i, match: match, key: key, why: why, score: bits.OnesCount8(o.tmask & emask), lead: time.Duration(startNs - o.at)}
		if o.tmask&emain != 0 {
			cs.score += 2
		}
		if match == matchState {
			cs.state = state
		}
		switch {
		case o.at < startNs:
			cs.dist = time.Duration(startNs - o.at)
		case o.at > endNs:
			cs.dist = 2 * time.Duration(o.at-endNs)
		}
		found[i] = cs
	}
	// 1. Shared IDs, within the horizon before the effect and not after it:
	// the latest maxWeighed of each ID (its list is in time order).
	for _, k := range idKeys {
		for _, v := range e.ids[k.match] {
			list := ix.byID[[2]string{k.match, v}]
			from, to := nanos(e.start.Add(-c.horizon)), nanos(e.end.Add(c.within))
			lo := sort.Search(len(list), func(j int) bool { return ix.ev(list[j]).at >= from })
			hi := sort.Search(len(list), func(j int) bool { return ix.ev(list[j]).at > to })
			for j, n := hi-1, 0; j >= lo && n < c.maxWeighed; j-- {
				i := list[j]
				if !ix.ev(i).adverse() && ix.ev(i).at < nanos(e.start.Add(-c.within)) {
					continue // routine, and before the effect began: the container's start, long ago
				}
				n++
				consider(i, k.match, v, func() string { return "same " + k.match + " " + v })
			}
		}
	}
	if timeToo {
		from, to := c.window(e)
		// 2. States that held during the effect, on its topics.
		for _, s := range ix.states {
			if !e.topics.has(s.topic) || ix.ev(s.openers[0]).time().After(to) || (!s.end.IsZero() && s.end.Before(e.start.Add(-c.within))) {
				continue
			}
			state = s
			for _, i := range s.openers {
				consider(i, matchState, s.topic, func() string { return c.stateReason(s, e) })
			}
		}
		// A recovery: the states that ended in the window.
		if strings.Contains(e.ev.name(), "recover") {
			for _, s := range ix.states {
				if s.closer >= 0 && !s.end.Before(from) && !s.end.After(to) {
					what := map[string]string{topicCircuitBreaker: "circuit breaker closed", topicVPN: "VPN back"}[s.topic]
					consider(s.closer, matchState, s.topic, func() string {
						return what + " at " + s.end.Format("15:04:05.000") + ", " + c.leadText(s.end, s.closer, e)
					})
				}
			}
		}
		// 3 and 4. Trouble in the causal window: the nearest maxWeighed
		// events, outwards from the effect (those during it first).
		lo, hi := ix.searchTime(nanos(from)), ix.searchTime(nanos(to)+1) // [lo, hi)
		in0, in1 := ix.searchTime(nanos(e.start)), ix.searchTime(nanos(e.end)+1)
		in0, in1 = max(in0, lo), min(max(in1, in0), hi)
		weighed := 0
		weigh := func(i int) {
			o := ix.ev(int32(i))
			if !o.adverse() {
				return
			}
			weighed++
			switch {
			case o.tmask&emask != 0:
				consider(int32(i), matchTopic, "", func() string {
					return "same topic (" + strings.Join(sharedTopics(unpackTopics(o.topics), e.topics), ", ") + "), " + c.leadText(o.time(), int32(i), e)
				})
			case o.weight >= 2 && o.at <= endNs:
				consider(int32(i), matchTime, "", func() string { return "at the same time, on another topic, " + c.leadText(o.time(), int32(i), e) })
			}
		}
		for i := in0; i < in1 && weighed < c.maxWeighed; i++ {
			weigh(i)
		}
		l, r := in0-1, in1
		for weighed < c.maxWeighed && (l >= lo || r < hi) {
			// the nearer of the two sides (after the effect counts twice: distance)
			if r >= hi || (l >= lo && startNs-ix.ev(int32(l)).at <= 2*(ix.ev(int32(r)).at-endNs)) {
				weigh(l)
				l--
			} else {
				weigh(r)
				r++
			}
		}
	}
	all := make([]*cause, 0, len(found))
	for _, cs := range found {
		all = append(all, cs)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		// A state change or a failure stands above any routine event (the
		// same request's start_acestream_begin, a breaker's failure count
		// while it is still closed), however the routine one was matched.
		if sa, sb := ix.ev(a.idx).significant(), ix.ev(b.idx).significant(); sa != sb {
			return sa
		}
		if matchTier[a.match] != matchTier[b.match] {
			return matchTier[a.match] < matchTier[b.match]
		}
		if a.score != b.score {
			return a.score > b.score
		}
		if wa, wb := ix.ev(a.idx).weight, ix.ev(b.idx).weight; wa != wb {
			return wa > wb
		}
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		if ta, tb := ix.ev(a.idx).at, ix.ev(b.idx).at; ta != tb {
			return ta < tb
		}
		return a.idx < b.idx
	})
	// Fold repeats (five circuit_breaker failure counts) into the best one.
	type foldKey struct {
		match          string
		cat, name, st  int32
		stateTopicName string
	}
	var out []cause
	seen := map[foldKey]int{}
	for _, cs := range all {
		o := ix.ev(cs.idx)
		key := foldKey{match: cs.match, cat: o.cat, name: o.name, st: o.state}
		if cs.match == matchState {
			key = foldKey{match: cs.match, cat: -1, name: -1, st: -1, stateTopicName: cs.key} // one state, logged in several files
		}
		if i, ok := seen[key]; ok {
			out[i].similar++
			continue
		}
		if len(out) == c.maxCauses {
			continue
		}
		seen[key] = len(out)
		cs.reason = cs.why()
		out = append(out, *cs)
	}
	return out
}

// topicMask is a set of topics as bits (orchEvent.tmask).
func topicMask(ts topicSet) uint8 {
	var m uint8
	for _, t := range ts {
		for c, name := range topicCodes {
			if name == t && c > 0 {
				m |= 1 << c
			}
		}
	}
	return m
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

// leadText says when cause i, at t, happened relative to the effect. Of a
// cause logged after the effect ended it asks "clock skew?" only when skew
// could explain it: across systems, when their clocks are not known to
// agree more closely than that (clockBound).
func (c *correlator) leadText(t time.Time, i int32, e *effect) string {
	switch {
	case t.Before(e.start):
		return fmtDur(e.start.Sub(t)) + " before"
	case t.After(e.end):
		if c.clock.skewCouldExplain(c.ix.files[c.ix.ev(i).file].system, e.ev.System, t.Sub(e.end)) {
			return fmtDur(t.Sub(e.end)) + " after (clock skew?)"
		}
		return fmtDur(t.Sub(e.end)) + " after"
	case e.start.Equal(e.end):
		return "at the same time"
	}
	return fmtDur(t.Sub(e.start)) + " into it"
}

func (c *correlator) stateReason(s *stateSpan, e *effect) string {
	opened := c.ix.ev(s.openers[0]).time()
	what := map[string]string{topicCircuitBreaker: "circuit breaker open", topicVPN: "VPN down"}[s.topic]
	r := what + " since " + opened.Format("15:04:05.000")
	if s.end.IsZero() {
		r += " (no recovery logged)"
	} else {
		r += " until " + s.end.Format("15:04:05.000")
	}
	return r + ", " + c.leadText(opened, s.openers[0], e)
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
