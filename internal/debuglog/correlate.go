package debuglog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

const correlateUsage = `usage: debuglog correlate --proxy DIR --orch DIR [flags]

For every stress event of the proxy and every failed (5xx or error) or slow
request (its first byte, ttfb_ms, waited --slow or more; a proxy from before
ttfb_ms: the whole request took that long), the orchestrator events that
plausibly caused it, ranked:
  1. the same request_id, container_id (the proxy's engine_id) or stream_id;
  2. an orchestrator state that held during it (the circuit breaker open,
     the VPN down), however long before it began;
  3. trouble on the same topic (provisioning, circuit_breaker, vpn, engines,
     stream) in the causal window: from --within + --poll before the effect
     began to --within after it ended;
  4. other trouble (stress events, errors) in that window.
Effects of one kind and type whose leading causes are of the same kind are
one finding, shown once with how many more there are (a storm of 400
provisioning_circuit_breaker events during one breaker opening is one
finding); --all lists every one of them, a line each. Then, per orchestrator
incident, the proxy effects it explains. Folders that do not overlap in time
are said to be so.

flags:
`

// cmdCorrelate explains the proxy's effects with the orchestrator's events.
// It holds the proxy's effects (whole) and an index of the orchestrator's
// events that can cause them (48 bytes an event: orchIndex), and streams
// the rest of the proxy's files twice (effects, then their requests'
// steps); the orchestrator events it prints are read again.
func cmdCorrelate(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("correlate", correlateUsage)
	var proxyDirs, orchDirs stringList
	dirFlags(fs, &proxyDirs, &orchDirs)
	within := fs.Duration("within", time.Second, "clock skew and processing time between the systems")
	poll := fs.Duration("poll", 5*time.Second, "the proxy's health-poll interval: how stale its view of the orchestrator can be")
	slow := fs.Duration("slow", 5*time.Second, "a request whose first byte (ttfb_ms; else the whole request) waited at least this long is slow")
	maxCauses := fs.Int("max", 5, "causes shown per effect")
	asJSON := fs.Bool("json", false, "one JSON document: the spans, every effect with its ranked causes, the incidents")
	brief := fs.Bool("brief", false, "only the stress events (3 causes each) and the orchestrator's incidents")
	all := fs.Bool("all", false, "list every effect of a finding (one line each, with its leading cause), not only the first")
	sessions := sessionFlag(fs)
	store := storeFlags(fs, nil, nil)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := store.check(fs, len(pos)+len(proxyDirs)+len(orchDirs)); err != nil {
		return err
	}
	if !store.on() && (len(pos) > 0 || len(proxyDirs) == 0 || len(orchDirs) == 0) {
		return usageError(fs, "correlate wants --proxy DIR and --orch DIR (or --clickhouse URL)")
	}
	if *within < 0 || *poll < 0 || *slow <= 0 || *maxCauses < 1 {
		return usageError(fs, "--within and --poll must not be negative, --slow must be positive, --max at least 1")
	}
	var proxyFiles, orchFiles []file
	if store.on() {
		if proxyFiles, orchFiles, err = store.systems(ctx, fs, warn); err != nil {
			return err
		}
	} else {
		if proxyFiles, err = findFiles(ctx, proxyDirs, systemProxy, warn); err != nil {
			return err
		}
		if orchFiles, err = findFiles(ctx, orchDirs, systemOrch, warn); err != nil {
			return err
		}
	}
	if proxyFiles, orchFiles, err = pickSystems(proxyFiles, orchFiles, *sessions, warn); err != nil {
		return err
	}
	effects, proxySpan, calls, err := findEffects(ctx, proxyFiles, warn, *slow, "")
	if err != nil {
		return err
	}
	ix, err := loadOrchIndex(ctx, orchFiles, warn, effectIDs(effects))
	if err != nil {
		return err
	}
	c := newCorrelator(ix, *within, *poll, *maxCauses)
	c.clock = measureClocks(calls, ix)
	res, err := correlate(ctx, c, effects, proxySpan)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res.toJSON())
	}
	res.print(out, *brief, *all)
	return nil
}

// span is the time a set of files covers.
type span struct {
	first, last time.Time
	sessions    []string
}

func (s *span) add(ev *Event) {
	if ev.Time.IsZero() {
		return
	}
	if s.first.IsZero() || ev.Time.Before(s.first) {
		s.first = ev.Time
	}
	if ev.Time.After(s.last) {
		s.last = ev.Time
	}
	for _, x := range s.sessions {
		if x == ev.Session {
			return
		}
	}
	s.sessions = append(s.sessions, ev.Session)
}

// effectIDs are the IDs the effects carry: the orchestrator's routine
// events are indexed only when they carry one.
func effectIDs(effects []*effect) map[[2]string]bool {
	ids := map[[2]string]bool{}
	for _, e := range effects {
		for match, vs := range e.ids {
			for _, v := range vs {
				ids[[2]string{match, v}] = true
			}
		}
	}
	return ids
}

// readTimed reads the events with a time from files, those keep accepts
// (every one when keep is nil).
func readTimed(ctx context.Context, files []file, warn *warner, keep func(*Event) bool) ([]*Event, error) {
	var out []*Event
	for _, f := range files {
		if err := readFile(ctx, f, warn, func(ev *Event) bool {
			if !ev.Time.IsZero() && (keep == nil || keep(ev)) {
				out = append(out, ev)
			}
			return true
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// findEffects reads the proxy's files twice: first for its effects (stress
// events, failed and slow requests; only request onlyID's when set), then
// for the steps of their requests, which give them their IDs and topics,
// and the first provisioning call of each (to measure the clocks).
func findEffects(ctx context.Context, files []file, warn *warner, slow time.Duration, onlyID string) ([]*effect, span, firstCalls, error) {
	calls := firstCalls{}
	var effects []*effect
	var sp span
	byRequest := map[string][]*effect{}
	for _, f := range files {
		if err := readFile(ctx, f, warn, func(ev *Event) bool {
			if ev.Category != "session" { // session_start may be long before the incident
				sp.add(ev)
			}
			if ev.Time.IsZero() || (onlyID != "" && ev.str("request_id") != onlyID) {
				return true
			}
			e := effectOf(ev, slow)
			if e == nil {
				return true
			}
			effects = append(effects, e)
			if id := ev.str("request_id"); id != "" {
				byRequest[id] = append(byRequest[id], e)
			}
			return true
		}); err != nil {
			return nil, sp, nil, err
		}
	}
	// The steps of the effects' requests: their IDs, and the topics of the
	// steps that failed or took most of the time.
	type step struct {
		ev     *Event
		topics topicSet
	}
	steps := map[string][]step{}
	if len(byRequest) > 0 {
		for _, f := range files {
			if err := readFile(ctx, f, warn, func(ev *Event) bool {
				id := ev.str("request_id")
				if id == "" || byRequest[id] == nil || ev.Category == "stress" {
					return true
				}
				for _, e := range byRequest[id] {
					e.addIDs(ev)
				}
				calls.add(ev)
				if ev.Category != "requests" && troubled(ev) {
					steps[id] = append(steps[id], step{ev, topicsOf(ev)})
				}
				return true
			}); err != nil {
				return nil, sp, nil, err
			}
		}
	}
	for id, es := range byRequest {
		ss := steps[id]
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].ev.Time.Before(ss[j].ev.Time) })
		for _, e := range es {
			var ts topicSet
			for _, s := range ss {
				if e.kind == "slow_request" || strings.HasPrefix(e.ev.name(), "slow_") || s.ev.str("error") != "" || s.ev.Fields["success"] == false {
					for _, t := range s.topics {
						ts.add(t)
					}
				}
			}
			for _, t := range e.topics {
				ts.add(t)
			}
			e.topics = ts
		}
	}
	sort.SliceStable(effects, func(i, j int) bool { return effects[i].end.Before(effects[j].end) })
	return effects, sp, calls, nil
}

// troubled says whether a proxy step went wrong or was slow enough to
// explain its request: an error, a failure, a duration over a second.
func troubled(ev *Event) bool {
	d, _ := ev.durationMS()
	return ev.str("error") != "" || ev.str("error_message") != "" || ev.Fields["success"] == false || d >= 1000
}

// stressSummary is the event type of the line that counts what the
// stress cooldown held back (written at Close).
const stressSummary = "stress_suppressed"

// effectOf says whether a proxy event is something to explain.
func effectOf(ev *Event, slow time.Duration) *effect {
	d, _ := ev.durationMS()
	dur := time.Duration(d * float64(time.Millisecond))
	e := &effect{ev: ev, start: ev.Time, end: ev.Time}
	switch {
	case ev.Category == "stress" && ev.str("event_type") == stressSummary:
		return nil // bookkeeping: what the cooldown held back, not an event
	case ev.Category == "stress" && ev.str("event_type") == "stream_stalled":
		e.kind = "stress"
		if ms, ok := ev.num("stall_ms"); ok && ms >= 0 && ms <= maxDurationMS {
			e.start = ev.Time.Add(-time.Duration(ms * float64(time.Millisecond))) // the stall, up to the event
		}
	case ev.Category == "stress" && ev.str("event_type") != "":
		e.kind = "stress"
		if ev.str("event_type") == "slow_request" || ev.str("event_type") == "slow_engine_selection" {
			e.start = ev.Time.Add(-dur)
		}
	case ev.Category == "requests":
		status, _ := ev.num("status_code")
		switch {
		case status >= 500 || ev.str("error") != "":
			e.kind = "failed_request"
		case waited(ev) >= slow:
			e.kind = "slow_request"
		default:
			return nil
		}
		e.start = ev.Time.Add(-dur)
	default:
		return nil
	}
	e.topics = topicsOf(ev)
	e.addIDs(ev)
	return e
}

// waited is how long a request waited to be served: its ttfb_ms (the wait
// for the first byte) when the proxy logs it, else (a proxy from before it)
// its whole duration. A long stream that started at once is no slow
// request.
func waited(ev *Event) time.Duration {
	if ms, ok := ev.num("ttfb_ms"); ok && ms >= 0 && ms <= maxDurationMS {
		return time.Duration(ms * float64(time.Millisecond))
	}
	d, _ := ev.durationMS()
	return time.Duration(d * float64(time.Millisecond))
}

// explained is one effect with its causes.
type explained struct {
	*effect
	causes []cause
}

// finding is effects of one kind and type with the same leading cause:
// a storm of per-request events during one incident is one finding.
type finding struct {
	first explained   // the earliest, shown with its causes
	more  []explained // the others, in time order
}

// incident is an orchestrator event of weight and the effects it explains.
type incident struct {
	idx     int32
	ev      *Event
	effects []*effect
}

// maxQuietIncidents bounds the incidents listed that explain nothing on the
// proxy (the earliest); the others are counted.
const maxQuietIncidents = 100

// correlation is correlate's result.
type correlation struct {
	c                   *correlator
	proxySpan, orchSpan span
	overlap             bool
	gap                 time.Duration // between the spans when they do not overlap
	effects             []explained
	incidents           []*incident
	quietNotListed      int // incidents that explain nothing, beyond maxQuietIncidents
}

func correlate(ctx context.Context, c *correlator, effects []*effect, proxySpan span) (*correlation, error) {
	ix := c.ix
	res := &correlation{c: c, proxySpan: proxySpan, orchSpan: ix.span}
	p, o := proxySpan, res.orchSpan
	slack := c.within + c.poll
	switch {
	case p.first.IsZero() || o.first.IsZero():
	case p.last.Add(slack).Before(o.first):
		res.gap = o.first.Sub(p.last)
	case o.last.Add(slack).Before(p.first):
		res.gap = p.first.Sub(o.last)
	default:
		res.overlap = true
	}
	// Incidents: the events of weight, and the first opener of a state with
	// no such event among its openers.
	extra := map[int32]bool{}
	for _, s := range ix.states {
		known := false
		for _, i := range s.openers {
			known = known || ix.ev(i).weight >= 2
		}
		if !known {
			extra[s.openers[0]] = true
		}
	}
	isIncident := func(i int32) bool { return ix.ev(i).weight >= 2 || extra[i] }
	byEvent := map[int32]*incident{}
	for _, e := range effects {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		causes := c.explain(e, res.overlap)
		c.fill(causes)
		res.effects = append(res.effects, explained{effect: e, causes: causes})
		for _, cs := range causes {
			if cs.match == matchTime {
				continue // a coincidence on another topic explains nothing
			}
			for _, i := range c.folded(cs) {
				if isIncident(i) && !ix.ev(i).time().After(e.end) {
					in := byEvent[i]
					if in == nil {
						in = &incident{idx: i}
						byEvent[i] = in
					}
					in.effects = append(in.effects, e)
				}
			}
		}
	}
	// Listed: every incident that explains an effect, and the earliest
	// maxQuietIncidents of the others.
	quiet := 0
	for i := range ix.n {
		i := int32(i)
		if !isIncident(i) {
			continue
		}
		in := byEvent[i]
		if in == nil {
			if quiet++; quiet > maxQuietIncidents {
				res.quietNotListed++
				continue
			}
			in = &incident{idx: i}
		}
		in.ev = ix.event(i)
		res.incidents = append(res.incidents, in)
	}
	return res, nil
}

// print writes the result for people.
func (res *correlation) print(out io.Writer, brief, all bool) {
	c := res.c
	counts := map[string]int{}
	for _, e := range res.effects {
		counts[e.kind]++
	}
	fmt.Fprintf(out, "proxy         %s  %s\n", spanText(res.proxySpan), plural(counts["stress"], "stress event")+", "+
		plural(counts["failed_request"], "failed request")+", "+plural(counts["slow_request"], "slow request"))
	fmt.Fprintf(out, "orchestrator  %s  %d events\n", spanText(res.orchSpan), c.ix.count)
	if !res.overlap {
		if res.proxySpan.first.IsZero() || res.orchSpan.first.IsZero() {
			fmt.Fprintln(out, "\nOne side has no timed events: nothing can be lined up by time.")
		} else {
			fmt.Fprintf(out, "\nThese folders do not overlap in time: they are %s apart. Nothing can be paired by time\n"+
				"(only by shared IDs, below). Are they from the same incident, and are both clocks right?\n", fmtDur(res.gap))
		}
	} else {
		fmt.Fprintf(out, "causes are looked for from %s before each effect began (--within %s + --poll %s) to %s after it ended\n",
			fmtDur(c.within+c.poll), c.within, c.poll, fmtDur(c.within))
	}
	if res.overlap || c.clock.pairs > 0 {
		fmt.Fprintln(out, c.clock.text())
	}
	if len(res.effects) == 0 {
		fmt.Fprintln(out, "\nThe proxy logged no stress event and no failed or slow request: nothing to explain.")
	}
	maxShown := c.maxCauses
	if brief {
		maxShown = 3
	}
	for _, f := range findings(res.effects, brief) {
		e := f.first
		fmt.Fprintf(out, "\n%s  %s\n", e.end.Format("15:04:05.000"), effectTitle(e.effect))
		alike := "the same leading cause"
		if len(e.causes) == 0 {
			alike = "none explained either"
		}
		if n := len(f.more); n > 0 {
			where := "--all lists each, --json each with its causes"
			if all {
				where = "each listed below"
			}
			fmt.Fprintf(out, "    and %d more like it (%s), until %s (%s)\n", n, alike, f.more[n-1].end.Format("15:04:05.000"), where)
		}
		if len(e.causes) == 0 {
			fmt.Fprintln(out, "    no orchestrator event explains it")
		}
		for n, cs := range e.causes {
			if n == maxShown {
				break
			}
			more := ""
			if cs.similar > 0 {
				more = fmt.Sprintf(" (+%d like it)", cs.similar)
			}
			fmt.Fprintf(out, "    %d. %s  %-15s %s%s\n       %s\n", n+1, cs.ev.Time.Format("15:04:05.000000"), escapeText(cs.ev.Category),
				escapeText(describe(cs.ev)), more, escapeText(cs.reason))
		}
		if all && len(f.more) > 0 {
			fmt.Fprintf(out, "    the %d more:\n", len(f.more))
			for _, m := range f.more {
				fmt.Fprintf(out, "      %s  %s\n", m.end.Format("15:04:05.000"), memberText(m))
			}
		}
	}
	if len(res.incidents) > 0 {
		fmt.Fprintln(out, "\norchestrator trouble, and the proxy effects it explains:")
		for _, in := range res.incidents {
			fmt.Fprintf(out, "  %s  %-15s %s: ", in.ev.Time.Format("15:04:05.000"), escapeText(in.ev.Category), escapeText(describe(in.ev)))
			if len(in.effects) == 0 {
				fmt.Fprintln(out, "nothing on the proxy")
				continue
			}
			first := in.effects[0]
			for _, e := range in.effects {
				if e.end.Before(first.end) {
					first = e
				}
			}
			fmt.Fprintf(out, "%s, the first %s later (%s)\n", plural(len(in.effects), "effect"), fmtDur(first.end.Sub(in.ev.Time)), escapeText(first.ev.name()))
		}
		if res.quietNotListed > 0 {
			fmt.Fprintf(out, "  and %s more, which explain nothing on the proxy (only the first %d such are listed)\n", plural(res.quietNotListed, "incident"), maxQuietIncidents)
		}
	}
}

// findings groups the effects (the stress events only, when brief) into
// findings: those of one kind and type whose leading causes are of the
// same kind, wherever they are in time, are one, in the order of their
// first (a storm of per-request events during one incident is one finding).
func findings(effects []explained, brief bool) []finding {
	var out []finding
	index := map[string]int{}
	for _, e := range effects {
		if brief && e.kind != "stress" {
			continue
		}
		key := findingKey(e)
		if i, ok := index[key]; ok {
			out[i].more = append(out[i].more, e)
			continue
		}
		index[key] = len(out)
		out = append(out, finding{first: e})
	}
	return out
}

// memberText is a finding's other effect in one line, with its leading
// cause.
func memberText(e explained) string {
	ev := e.ev
	var s string
	switch e.kind {
	case "stress":
		s = ev.name()
	default:
		s = fmt.Sprintf("%s %s -> %s in %s", ev.str("method"), ev.str("path"), firstNonEmpty(ev.str("status_code"), ev.str("error")), fmtDur(e.end.Sub(e.start)))
	}
	if id := ev.str("request_id"); id != "" {
		s += "  request " + id
	}
	if len(e.causes) > 0 {
		cs := e.causes[0]
		s += "  <- " + cs.ev.Time.Format("15:04:05.000000") + " " + describe(cs.ev)
	}
	return escapeText(s)
}

// findingKey names what a finding is: the effect's kind and type and its
// leading cause (the strongest explanation), by how it was matched and
// what kind of event it is. The causes after it vary with each effect's
// timing (which event of the incident is nearest), so they are not part of
// it.
func findingKey(e explained) string {
	var b strings.Builder
	b.WriteString(e.kind + "\x00" + e.ev.name())
	if len(e.causes) > 0 {
		cs := e.causes[0]
		fmt.Fprintf(&b, "\x00%v\x00%s\x00%s\x00%s", cs.match, cs.ev.Category, cs.ev.name(), cs.ev.str("error"))
	}
	return b.String()
}

// effectTitle describes an effect in one line.
func effectTitle(e *effect) string {
	ev := e.ev
	var s string
	switch e.kind {
	case "stress":
		s = "proxy stress " + ev.name() + " (" + ev.str("severity") + ")"
		if d := ev.str("description"); d != "" {
			s += ": " + d
		}
	default:
		what := "failed request"
		if e.kind == "slow_request" {
			what = "slow request"
		}
		s = fmt.Sprintf("proxy %s: %s %s -> %s in %s", what, ev.str("method"), ev.str("path"), firstNonEmpty(ev.str("status_code"), ev.str("error")), fmtDur(e.end.Sub(e.start)))
	}
	if id := ev.str("request_id"); id != "" {
		s += "  request " + id
	}
	if len(e.topics) > 0 {
		s += "  [" + strings.Join(e.topics, ", ") + "]"
	}
	return escapeText(s)
}

// describe names an orchestrator event with the fields that say what it
// was.
func describe(ev *Event) string {
	s := ev.name()
	for _, k := range []string{"severity", "state", "status", "error", "error_type", "error_message", "container_id", "failure_count", "duration_ms"} {
		if v := ev.str(k); v != "" && v != s {
			s += " " + k + "=" + v
		}
	}
	return s
}

func spanText(s span) string {
	if s.first.IsZero() {
		return "(no timed events)"
	}
	return s.first.Format("2006-01-02 15:04:05.000") + " -> " + s.last.Format("15:04:05.000") + " UTC"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, what[:len(what)-1])
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// lineRef is an event as --json writes it: where it is and the whole line.
type lineRef struct {
	System string         `json:"system"`
	File   string         `json:"file"`
	Line   int            `json:"line"`
	Time   string         `json:"time"`
	Name   string         `json:"name"`
	Data   map[string]any `json:"data"`
}

func refOf(ev *Event) lineRef {
	return lineRef{ev.System, ev.File, ev.Line, ev.Time.Format(fixedTime), ev.name(), ev.Fields}
}

type spanJSON struct {
	First    string   `json:"first,omitempty"`
	Last     string   `json:"last,omitempty"`
	Sessions []string `json:"sessions"`
}

type causeJSON struct {
	Rank    int      `json:"rank"`
	Match   string   `json:"match"`
	Key     string   `json:"key,omitempty"`
	Reason  string   `json:"reason"`
	Topics  []string `json:"topics"`
	LeadMS  float64  `json:"lead_ms"` // effect start minus cause time
	Similar int      `json:"similar,omitempty"`
	lineRef
}

type effectJSON struct {
	Kind    string      `json:"kind"`
	StartMS float64     `json:"duration_ms"`
	Topics  []string    `json:"topics"`
	Causes  []causeJSON `json:"causes"`
	lineRef
}

type incidentJSON struct {
	Explains int `json:"explains"`
	lineRef
}

type correlationJSON struct {
	Proxy        spanJSON       `json:"proxy"`
	Orchestrator spanJSON       `json:"orchestrator"`
	Overlap      bool           `json:"overlap"`
	GapMS        float64        `json:"gap_ms,omitempty"`
	WithinMS     float64        `json:"within_ms"`
	PollMS       float64        `json:"poll_ms"`
	Effects      []effectJSON   `json:"effects"`
	Incidents    []incidentJSON `json:"incidents"`
	// IncidentsNotListed counts the incidents that explain nothing on the
	// proxy beyond the first 100 listed.
	IncidentsNotListed int `json:"incidents_not_listed,omitempty"`
	// Clock bounds the orchestrator's clock offset, when requests both
	// systems logged say it.
	Clock *clockJSON `json:"clock,omitempty"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func (s span) toJSON() spanJSON {
	j := spanJSON{Sessions: append([]string{}, s.sessions...)}
	sort.Strings(j.Sessions)
	if !s.first.IsZero() {
		j.First, j.Last = s.first.Format(time.RFC3339Nano), s.last.Format(time.RFC3339Nano)
	}
	return j
}

func (res *correlation) toJSON() correlationJSON {
	j := correlationJSON{Proxy: res.proxySpan.toJSON(), Orchestrator: res.orchSpan.toJSON(), Overlap: res.overlap, GapMS: ms(res.gap),
		WithinMS: ms(res.c.within), PollMS: ms(res.c.poll), Effects: []effectJSON{}, Incidents: []incidentJSON{}, IncidentsNotListed: res.quietNotListed,
		Clock: res.c.clock.toJSON()}
	for _, e := range res.effects {
		ej := effectJSON{Kind: e.kind, StartMS: ms(e.end.Sub(e.start)), Topics: append([]string{}, e.topics...), Causes: []causeJSON{}, lineRef: refOf(e.ev)}
		for n, cs := range e.causes {
			ej.Causes = append(ej.Causes, causeJSON{Rank: n + 1, Match: cs.match, Key: cs.key, Reason: cs.reason, Topics: append([]string{}, topicsOf(cs.ev)...),
				LeadMS: ms(cs.lead), Similar: cs.similar, lineRef: refOf(cs.ev)})
		}
		j.Effects = append(j.Effects, ej)
	}
	for _, in := range res.incidents {
		j.Incidents = append(j.Incidents, incidentJSON{Explains: len(in.effects), lineRef: refOf(in.ev)})
	}
	return j
}

// fixedTime formats times with a fixed 9-digit fraction, so that their
// strings sort in time order (as the library's do).
const fixedTime = "2006-01-02T15:04:05.000000000Z07:00"
