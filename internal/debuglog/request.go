package debuglog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const requestUsage = `usage: debuglog request [flags] ID [DIR...]

Everything one request did, across both systems, in time order: the proxy's
events that carry its request_id (or trace_id), and the orchestrator's that
share its request_id, a container_id or a stream_id, or that happened during
it on a topic it touched. Each step shows when it happened (from the
request's arrival) and the gap since the step before; the largest gap and the
slowest step are named. For a failed or slow request, the orchestrator events
that plausibly caused it follow (as correlate ranks them).

flags:
`

// step is one event of a request's story.
type step struct {
	ev       *Event
	relation string // how an orchestrator event relates to the request
	at       time.Time
}

// cmdRequest prints one request's story.
func cmdRequest(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("request", requestUsage)
	var proxy, orch stringList
	dirFlags(fs, &proxy, &orch)
	within := fs.Duration("within", time.Second, "clock skew between the systems")
	poll := fs.Duration("poll", 5*time.Second, "the proxy's health-poll interval (for the causes)")
	asJSON := fs.Bool("json", false, "one JSON document")
	sessions := sessionFlag(fs)
	store := storeFlags(fs, nil, nil)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError(fs, "request wants a request ID")
	}
	id := pos[0]
	files, err := store.inputs(ctx, fs, pos[1:], proxy, orch, warn)
	if err != nil {
		return err
	}
	if files, err = pickSessions(files, *sessions, true, warn); err != nil {
		return err
	}
	var proxyFiles, orchFiles []file
	for _, f := range files {
		if f.system == systemOrch {
			orchFiles = append(orchFiles, f)
		} else {
			proxyFiles = append(proxyFiles, f)
		}
	}
	story, err := requestStory(ctx, id, proxyFiles, orchFiles, warn, *within, *poll)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(story.toJSON())
	}
	story.print(out)
	return nil
}

// story is what one request did.
type story struct {
	id         string
	request    *Event // the requests line, when there is one
	start, end time.Time
	steps      []step
	effect     *effect
	causes     []cause
	gapAt      int       // index of the step that ends the largest gap
	gapFrom    time.Time // where that gap began
	slowest    *Event
	traces     []string        // the execution trace snapshots of its stress events
	snapshots  []string        // the goroutine snapshots its lines name, then its sessions' others
	named      map[string]bool // of those, the ones its lines name
	// stepsNotShown counts the orchestrator's events related to the
	// request past maxOrchSteps (of each kind: by ID, meanwhile).
	stepsNotShown int
}

// maxOrchSteps bounds the orchestrator events a request's story shows of
// each kind (sharing an ID, meanwhile on its topics).
const maxOrchSteps = 500

func requestStory(ctx context.Context, id string, proxyFiles, orchFiles []file, warn *warner, within, poll time.Duration) (*story, error) {
	st := &story{id: id}
	own, err := readTimed(ctx, proxyFiles, warn, func(ev *Event) bool {
		return ev.str("request_id") == id || ev.str("trace_id") == id
	})
	if err != nil {
		return nil, err
	}
	if len(own) == 0 { // the orchestrator's events of the request, then
		if own, err = readTimed(ctx, orchFiles, warn, func(ev *Event) bool { return ev.str("request_id") == id }); err != nil {
			return nil, err
		}
		if len(own) == 0 {
			return nil, fmt.Errorf("no event carries request_id or trace_id %q (is it the whole ID? are both systems' directories given?)", id)
		}
	}
	// The request's span: from its arrival (the requests line's time minus
	// its duration) to its last event.
	e := &effect{kind: "request"}
	var topics topicSet
	for _, ev := range own {
		if ev.Category == "requests" && st.request == nil {
			st.request = ev
		}
		e.addIDs(ev)
		for _, t := range topicsOf(ev) {
			topics.add(t)
		}
		if st.start.IsZero() || ev.Time.Before(st.start) {
			st.start = ev.Time
		}
		if ev.Time.After(st.end) {
			st.end = ev.Time
		}
	}
	if st.request != nil {
		d, _ := st.request.durationMS()
		if arrival := st.request.Time.Add(-time.Duration(d * float64(time.Millisecond))); arrival.Before(st.start) {
			st.start = arrival
		}
	}
	e.start, e.end, e.topics = st.start, st.end, topics
	for _, ev := range own {
		st.steps = append(st.steps, step{ev: ev, at: ev.Time})
		if p := executionTrace(ev); p != "" && ev.Category == "stress" {
			st.traces = append(st.traces, p)
		}
		if p := goroutineSnapshot(ev); p != "" {
			st.snapshots = append(st.snapshots, p)
		}
	}
	st.traces, st.snapshots = dedupe(st.traces), dedupe(st.snapshots)
	st.named = map[string]bool{}
	for _, p := range st.snapshots {
		st.named[p] = true
	}
	// A snapshot taken for another request's event may hold this one's
	// goroutines too (one per cooldown): its session's written while it
	// ran (by their files' times) are looked in.
	var globs []string
	for _, ev := range own {
		if sid := ev.str("session_id"); sid != "" && ev.File != "" && !strings.ContainsAny(sid, `*?[\/`) {
			globs = append(globs, filepath.Join(filepath.Dir(ev.File), sid+"_goroutines_*.txt"))
		}
	}
	for _, g := range dedupe(globs) {
		found, _ := filepath.Glob(g)
		for _, p := range found {
			if fi, err := os.Stat(p); err == nil && !fi.ModTime().Before(st.start.Add(-time.Second)) && !fi.ModTime().After(st.end.Add(5*time.Second)) {
				st.snapshots = append(st.snapshots, p)
			}
		}
	}
	st.snapshots = dedupe(st.snapshots)
	// The orchestrator's side, in one pass over its files: an index of the
	// events that can explain the request (orchIndex), and as steps its
	// events with the request's ID, or a container or stream ID of it
	// (within the clock skew of the request), and those on a topic it
	// touched while it ran: at most maxOrchSteps of each, the rest counted.
	wanted := map[[2]string]bool{{matchRequestID, id}: true}
	for match, vs := range e.ids {
		for _, v := range vs {
			wanted[[2]string{match, v}] = true
		}
	}
	ix := newOrchIndex(wanted)
	var byID, meanwhile []step
	for _, f := range orchFiles {
		fi := ix.addFile(f)
		if err := readFile(ctx, f, warn, func(ev *Event) bool {
			ix.add(fi, ev)
			if ev.Time.IsZero() || ev.Time.Before(st.start.Add(-within)) || ev.Time.After(st.end.Add(within)) {
				return true
			}
			rel := ""
			if rid := ev.str("request_id"); rid == id {
				rel = "same request_id"
			} else if rid != "" {
				return true // another request's
			}
			for _, k := range idKeys[1:] {
				for _, f := range k.orchFields {
					for _, v := range e.ids[k.match] {
						if rel == "" && ev.str(f) == v {
							rel = "same " + k.match
						}
					}
				}
			}
			switch {
			case rel != "" && len(byID) < maxOrchSteps:
				byID = append(byID, step{ev: ev, relation: rel, at: ev.Time})
			case rel != "":
				st.stepsNotShown++
			case !ev.Time.Before(st.start) && !ev.Time.After(st.end):
				if shared := sharedTopics(topicsOf(ev), topics); len(shared) > 0 {
					if len(meanwhile) < maxOrchSteps {
						meanwhile = append(meanwhile, step{ev: ev, relation: "meanwhile: " + strings.Join(shared, ", "), at: ev.Time})
					} else {
						st.stepsNotShown++
					}
				}
			}
			return true
		}); err != nil {
			return nil, err
		}
	}
	st.steps = append(append(st.steps, byID...), meanwhile...)
	sort.SliceStable(st.steps, func(i, j int) bool { return st.steps[i].at.Before(st.steps[j].at) })
	// The largest gap between the proxy's own consecutive steps, from the
	// arrival, and its slowest step.
	prev, largest := st.start, time.Duration(-1)
	for i, s := range st.steps {
		if s.relation != "" {
			continue
		}
		if g := s.at.Sub(prev); g > largest {
			largest, st.gapAt, st.gapFrom = g, i, prev
		}
		prev = s.at
		if d, ok := s.ev.durationMS(); ok && s.ev.Category != "requests" && s.ev.Category != "stress" {
			if sd, _ := durationOr(st.slowest); st.slowest == nil || d > sd {
				st.slowest = s.ev
			}
		}
	}
	// Why, when it failed or was slow.
	if st.request != nil {
		if eff := effectOf(st.request, 5*time.Second); eff != nil {
			eff.topics, eff.ids = topics, e.ids
			st.effect = eff
			c := newCorrelator(ix, within, poll, 5)
			calls := firstCalls{}
			for _, ev := range own {
				calls.add(ev)
			}
			c.clock = measureClocks(calls, ix)
			st.causes = c.explain(eff, true)
			c.fill(st.causes)
		}
	}
	return st, nil
}

func durationOr(ev *Event) (float64, bool) {
	if ev == nil {
		return 0, false
	}
	return ev.durationMS()
}

// print writes the story for people.
func (st *story) print(out io.Writer) {
	total := st.end.Sub(st.start)
	head := "request " + st.id
	if r := st.request; r != nil {
		head += fmt.Sprintf(": %s %s -> %s in %s", r.str("method"), r.str("path"), firstNonEmpty(r.str("status_code"), r.str("error")), fmtDur(total))
		if a := r.str("ace_id"); a != "" {
			head += " (ace_id " + a + ")"
		}
	}
	fmt.Fprintln(out, escapeText(head))
	fmt.Fprintf(out, "  from %s to %s UTC\n\n", st.start.Format("2006-01-02 15:04:05.000"), st.end.Format("15:04:05.000"))
	fmt.Fprintf(out, "  %10s  %10s  %-12s  %-5s  %-19s %s\n", "at", "gap", "time", "sys", "category", "what")
	if st.request != nil && st.start.Before(st.steps[0].at) {
		fmt.Fprintf(out, "  %10s  %10s  %-12s  %-5s  %-19s %s\n", "+0", "", st.start.Format("15:04:05.000"), "proxy", "requests", "request arrives (its duration back from the answer)")
	}
	prev := st.start
	for i, s := range st.steps {
		mark := ""
		if i == st.gapAt && len(st.steps) > 1 {
			mark = "  <- largest gap"
		}
		sys := "proxy"
		if s.ev.System == systemOrch {
			sys = "orch"
		}
		what := summaryFields(s.ev)
		if s.relation != "" {
			what += "  (" + s.relation + ")"
		}
		fmt.Fprintf(out, "  %10s  %10s  %-12s  %-5s  %-19s %s%s\n", signed(s.at.Sub(st.start)), signed(s.at.Sub(prev)), s.at.Format("15:04:05.000"),
			sys, escapeText(s.ev.Category), escapeText(what), mark)
		prev = s.at
	}
	if st.stepsNotShown > 0 {
		fmt.Fprintf(out, "  (and %s of the orchestrator's related to it, not shown: at most %d of each kind are)\n", plural(st.stepsNotShown, "more event"), maxOrchSteps)
	}
	fmt.Fprintln(out)
	if s := st.steps[st.gapAt]; s.relation == "" {
		g := s.at.Sub(st.gapFrom)
		from := "the request's arrival"
		for i := st.gapAt - 1; i >= 0; i-- {
			if p := st.steps[i]; p.relation == "" {
				from = p.ev.Category + " " + p.ev.name()
				break
			}
		}
		fmt.Fprintf(out, "largest gap: %s (%s of the request), from %s to %s %s", fmtDur(g), pct(g, total), escapeText(from), escapeText(s.ev.Category), escapeText(s.ev.name()))
		if d, ok := s.ev.durationMS(); ok && s.ev.Category != "requests" && time.Duration(d*float64(time.Millisecond)) >= g*9/10 {
			fmt.Fprintf(out, ": spent inside %s (it took %s)\n", escapeText(s.ev.name()), fmtDur(time.Duration(d*float64(time.Millisecond))))
		} else {
			fmt.Fprintln(out, ": nothing of the proxy's was logged in between")
		}
		var meanwhile []string
		for _, o := range st.steps {
			if o.relation != "" && !o.at.Before(st.gapFrom) && !o.at.After(s.at) && weight(o.ev) >= 1 {
				meanwhile = append(meanwhile, o.ev.name())
			}
		}
		if len(meanwhile) > 0 {
			fmt.Fprintf(out, "  meanwhile on the orchestrator: %s\n", escapeText(strings.Join(dedupe(meanwhile), ", ")))
		}
	}
	if s := st.slowest; s != nil {
		d, _ := s.durationMS()
		fmt.Fprintf(out, "slowest step: %s %s, %s (%s of the request)\n", escapeText(s.Category), escapeText(s.name()), fmtDur(time.Duration(d*float64(time.Millisecond))),
			pct(time.Duration(d*float64(time.Millisecond)), total))
	}
	for _, p := range st.traces {
		fmt.Fprintf(out, "execution trace of the seconds before its stress event: %s\n", escapeText(p))
		fmt.Fprintf(out, "  go tool trace %s   (its task is of type \"request\", with a log request_id=%s)\n", escapeText(p), escapeText(st.id))
	}
	for _, p := range st.snapshots {
		stacks, err := readStacks(p)
		switch ours := requestStacks(stacks, st.id); {
		case err != nil:
			fmt.Fprintf(out, "goroutine snapshot %s: %s\n", escapeText(p), escapeText(err.Error()))
		case len(ours) == 0 && !st.named[p]: // another event's, without this request
		case len(ours) == 0:
			fmt.Fprintf(out, "goroutine snapshot %s: no goroutine in it is labelled request_id=%s (%d stacks)\n", escapeText(p), escapeText(st.id), len(stacks))
		default:
			printStacks(out, p, ours)
		}
	}
	if st.effect != nil {
		fmt.Fprintf(out, "\nwhy it was a %s, as correlate ranks the orchestrator's events:\n", strings.ReplaceAll(st.effect.kind, "_", " "))
		if len(st.causes) == 0 {
			fmt.Fprintln(out, "  no orchestrator event explains it")
		}
		for n, cs := range st.causes {
			fmt.Fprintf(out, "  %d. %s  %-15s %s\n     %s\n", n+1, cs.ev.Time.Format("15:04:05.000000"), escapeText(cs.ev.Category), escapeText(describe(cs.ev)), escapeText(cs.reason))
		}
	}
}

// signed prints an offset with its sign.
func signed(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(d)
	}
	return "+" + fmtDur(d)
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func pct(part, whole time.Duration) string {
	if whole <= 0 {
		return "all"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(part)/float64(whole))
}

// summaryFields is an event's name and the fields that matter for its
// category (as timeline shows them), without the request's own IDs.
func summaryFields(ev *Event) string {
	s := ev.name()
	for _, kv := range fieldsFor(ev) {
		if kv[0] == "request_id" || kv[0] == "trace_id" {
			continue
		}
		s += " " + kv[0] + "=" + kv[1]
	}
	return s
}

type stepJSON struct {
	OffsetMS float64 `json:"offset_ms"`
	GapMS    float64 `json:"gap_ms"`
	Relation string  `json:"relation,omitempty"`
	lineRef
}

type storyJSON struct {
	RequestID  string      `json:"request_id"`
	Start      string      `json:"start"`
	End        string      `json:"end"`
	DurationMS float64     `json:"duration_ms"`
	Steps      []stepJSON  `json:"steps"`
	LargestGap int         `json:"largest_gap_step"` // index into steps
	Slowest    *lineRef    `json:"slowest_step,omitempty"`
	Effect     string      `json:"effect,omitempty"`
	Causes     []causeJSON `json:"causes"`
	// ExecutionTraces are the execution trace snapshots of its stress
	// events (their lines' execution_trace, beside their files).
	ExecutionTraces []string `json:"execution_traces,omitempty"`
	// Goroutines are the goroutine snapshots its lines name, with the
	// stacks in each labelled with its request_id.
	Goroutines []snapshotJSON `json:"goroutines,omitempty"`
	// StepsNotShown counts the orchestrator's events related to the
	// request past the 500 of each kind listed.
	StepsNotShown int `json:"steps_not_shown,omitempty"`
}

func (st *story) toJSON() storyJSON {
	j := storyJSON{RequestID: st.id, Start: st.start.Format(time.RFC3339Nano), End: st.end.Format(time.RFC3339Nano), DurationMS: ms(st.end.Sub(st.start)),
		LargestGap: st.gapAt, Steps: []stepJSON{}, Causes: []causeJSON{}, ExecutionTraces: st.traces, StepsNotShown: st.stepsNotShown}
	for _, p := range st.snapshots {
		stacks, err := readStacks(p)
		sj := snapshotJSON{Path: p, Stacks: append([]stack{}, requestStacks(stacks, st.id)...)}
		if err != nil {
			sj.Error = err.Error()
		} else if len(sj.Stacks) == 0 && !st.named[p] {
			continue
		}
		for i := range sj.Stacks {
			sj.Stacks[i].Waiting, sj.Stacks[i].Call = sj.Stacks[i].blockedOn()
		}
		j.Goroutines = append(j.Goroutines, sj)
	}
	prev := st.start
	for _, s := range st.steps {
		j.Steps = append(j.Steps, stepJSON{OffsetMS: ms(s.at.Sub(st.start)), GapMS: ms(s.at.Sub(prev)), Relation: s.relation, lineRef: refOf(s.ev)})
		prev = s.at
	}
	if st.slowest != nil {
		r := refOf(st.slowest)
		j.Slowest = &r
	}
	if st.effect != nil {
		j.Effect = st.effect.kind
	}
	for n, cs := range st.causes {
		j.Causes = append(j.Causes, causeJSON{Rank: n + 1, Match: cs.match, Key: cs.key, Reason: cs.reason, Topics: append([]string{}, topicsOf(cs.ev)...),
			LeadMS: ms(cs.lead), Similar: cs.similar, lineRef: refOf(cs.ev)})
	}
	return j
}
