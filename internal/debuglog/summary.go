package debuglog

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// maxSamples bounds the durations kept per category and operation: beyond
// it, percentiles come from a uniform sample (max stays exact).
const maxSamples = 100_000

// durations is a bounded reservoir of one group's duration_ms values.
type durations struct {
	n       int
	max     float64
	samples []float64
}

func (d *durations) add(v float64, rng *rand.Rand) {
	d.n++
	d.max = math.Max(d.max, v)
	if len(d.samples) < maxSamples {
		d.samples = append(d.samples, v)
	} else if i := rng.IntN(d.n); i < maxSamples {
		d.samples[i] = v
	}
}

// percentile is the nearest-rank percentile of the sorted samples.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

type catStats struct {
	lines       int
	first, last time.Time
}

type sessionStats struct {
	system     string
	categories map[string]*catStats
	durations  map[[2]string]*durations // category, operation
	stress     map[[2]string]int        // event_type, severity
	errors     map[string]int           // error_type or error text
	viewers    viewerStats
}

// viewerStats is what a session's viewers went through: how their
// requests were answered, how long they waited for the first byte, and
// how their streams stalled.
type viewerStats struct {
	requests int
	statuses map[int]int // status_code -> requests
	noAnswer int         // requests with an error and no status
	// slowStart and stall are the thresholds (ms): the session's own
	// (its session_start's config) unless given.
	slowStart, stall       float64
	slowStartFrom          string // where slowStart comes from
	stallFrom              string
	ttfb                   durations      // ttfb_ms of the requests lines that have it
	slowStarts             int            // of those, at least slowStart
	slowRequestEvents      int            // slow_request stress events
	maxStall               durations      // max_stall_ms of the stream lines that have it
	stalledStreams         int            // of those, at least stall
	stalledEvents          int            // stream_stalled stress events
	longestStalledEventMS  float64        // their longest stall_ms
	stalledEventsWithStall int            // those that say how long (stall_ms)
	ends                   map[string]int // reason -> streams that ended so (requests and disconnects lines)
}

const summaryUsage = `usage: debuglog summary [flags] DIR...

Per session: its requests by status code (how many 200, how many 503...) and
those with no answer; its slow starts (requests whose first byte, ttfb_ms,
waited at least the slow-start threshold) and slow_request stress events; its
stalls (streams whose max_stall_ms reached the stall threshold) and
stream_stalled stress events; how the streams ended (reason). Then per category: lines and time span;
durations (p50/p95/p99/max of duration_ms) per category and operation;
stress events by type and severity; errors by type; disconnects by reason.
Both systems' files, guessed per file. Each session is summed up apart.

flags:
`

// cmdSummary prints, per session and category, line counts and time spans;
// duration percentiles per category and operation; the stress events; and
// the errors by type. It keeps aggregates, not events.
func cmdSummary(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("summary", summaryUsage)
	only := sessionFlag(fs)
	slowFlag := fs.Duration("slow", 0, "a request whose first byte (ttfb_ms) waited at least this long is a slow start (default: the session's DEBUG_STRESS_SLOW requests threshold, from its session_start line, else 5s)")
	stallFlag := fs.Duration("stall", 0, "a stream whose longest gap (max_stall_ms) is at least this long stalled (default: the session's stall threshold, from its session_start line, else 5s)")
	store := storeFlags(fs, nil, nil)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	files, err := store.inputs(ctx, fs, pos, nil, nil, warn)
	if err != nil {
		return err
	}
	if files, err = pickSessions(files, *only, false, warn); err != nil { // each session is summed up apart: none mixed
		return err
	}
	if *slowFlag < 0 || *stallFlag < 0 {
		return usageError(fs, "--slow and --stall must not be negative")
	}
	// The session files first: their session_start says the thresholds.
	sort.SliceStable(files, func(i, j int) bool { return files[i].category == "session" && files[j].category != "session" })
	rng := rand.New(rand.NewPCG(1, 2))
	sessions := map[string]*sessionStats{}
	var order []string
	for _, f := range files {
		err := readFile(ctx, f, warn, func(ev *Event) bool {
			key := ev.System + " " + ev.Session
			s := sessions[key]
			if s == nil {
				s = &sessionStats{system: ev.System, categories: map[string]*catStats{}, durations: map[[2]string]*durations{},
					stress: map[[2]string]int{}, errors: map[string]int{}}
				s.viewers.statuses = map[int]int{}
				s.viewers.slowStart, s.viewers.slowStartFrom = defaultThreshold(*slowFlag, "--slow")
				s.viewers.stall, s.viewers.stallFrom = defaultThreshold(*stallFlag, "--stall")
				sessions[key] = s
				order = append(order, key)
			}
			if ev.Category == "session" && ev.name() == "session_start" {
				s.viewers.configured(ev, *slowFlag == 0, *stallFlag == 0)
			}
			s.viewers.add(ev, rng)
			c := s.categories[ev.Category]
			if c == nil {
				c = &catStats{}
				s.categories[ev.Category] = c
			}
			c.lines++
			if !ev.Time.IsZero() {
				if c.first.IsZero() || ev.Time.Before(c.first) {
					c.first = ev.Time
				}
				if ev.Time.After(c.last) {
					c.last = ev.Time
				}
			}
			if d, ok := ev.durationMS(); ok && ev.Category != "stress" { // a stress event repeats its record's duration
				k := [2]string{ev.Category, operationOf(ev)}
				if s.durations[k] == nil {
					s.durations[k] = &durations{}
				}
				s.durations[k].add(d, rng)
			}
			if t := ev.str("event_type"); t != "" && ev.Category == "stress" {
				s.stress[[2]string{t, ev.str("severity")}]++
			}
			if ev.Category == "errors" {
				s.errors[firstNonEmpty(ev.str("error_type"), ev.str("error_message"), ev.str("msg"))]++
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	sort.Strings(order)
	sort.SliceStable(order, func(i, j int) bool { // the proxy's sessions first: its viewers' lines lead
		return sessions[order[i]].system == systemProxy && sessions[order[j]].system != systemProxy
	})
	for i, key := range order {
		if i > 0 {
			fmt.Fprintln(out)
		}
		printSession(out, key, sessions[key])
	}
	if warn.skippedLines > 0 {
		fmt.Fprintf(out, "\n%d malformed lines skipped (see stderr)\n", warn.skippedLines)
	}
	return nil
}

// operationOf groups durations: the operation, else method and path, else
// the event type or message.
func operationOf(ev *Event) string {
	if ev.Category == "disconnects" {
		return "reason=" + firstNonEmpty(ev.str("reason"))
	}
	if op := ev.str("operation"); op != "" {
		return op
	}
	if p := ev.str("path"); p != "" {
		return strings.TrimSpace(ev.str("method") + " " + p)
	}
	return ev.name()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return "(unknown)"
}

func printSession(out io.Writer, key string, s *sessionStats) {
	var first, last time.Time
	total := 0
	for _, c := range s.categories {
		total += c.lines
		if !c.first.IsZero() && (first.IsZero() || c.first.Before(first)) {
			first = c.first
		}
		if c.last.After(last) {
			last = c.last
		}
	}
	fmt.Fprintf(out, "session %s  %d lines", escapeText(key), total)
	if !first.IsZero() {
		fmt.Fprintf(out, "  %s → %s (%s)", first.Format(time.RFC3339Nano), last.Format("15:04:05.000000"), last.Sub(first).Round(time.Millisecond))
	}
	fmt.Fprintln(out)
	s.viewers.print(out)

	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  category\tlines\tspan\t")
	for _, name := range sortedKeys(s.categories) {
		c := s.categories[name]
		fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", escapeText(name), c.lines, c.last.Sub(c.first).Round(time.Millisecond))
	}
	tw.Flush()

	if len(s.durations) > 0 {
		fmt.Fprintln(out, "  durations (ms):")
		tw = tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "    category\toperation\tn\tp50\tp95\tp99\tmax\t")
		keys := make([][2]string, 0, len(s.durations))
		for k := range s.durations {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i][0] != keys[j][0] {
				return keys[i][0] < keys[j][0]
			}
			return keys[i][1] < keys[j][1]
		})
		for _, k := range keys {
			d := s.durations[k]
			sort.Float64s(d.samples)
			fmt.Fprintf(tw, "    %s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", escapeText(k[0]), escapeText(k[1]), d.n,
				percentile(d.samples, 50), percentile(d.samples, 95), percentile(d.samples, 99), d.max)
		}
		tw.Flush()
	}
	if len(s.stress) > 0 {
		fmt.Fprintln(out, "  stress events:")
		keys := make([][2]string, 0, len(s.stress))
		for k := range s.stress {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][0] < keys[j][0] })
		for _, k := range keys {
			fmt.Fprintf(out, "    %-34s %-9s %d\n", escapeText(k[0]), escapeText(k[1]), s.stress[k])
		}
	}
	if len(s.errors) > 0 {
		fmt.Fprintln(out, "  errors by type:")
		for _, t := range sortedKeys(s.errors) {
			fmt.Fprintf(out, "    %-34s %d\n", escapeText(t), s.errors[t])
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// defaultSlowStart and defaultStall are the thresholds of a session that
// does not say its own: the stress detector's defaults.
const (
	defaultSlowStart = 5 * time.Second
	defaultStall     = 5 * time.Second
)

// defaultThreshold is a threshold given on the command line (ms), else
// the default until the session says its own.
func defaultThreshold(given time.Duration, flagName string) (float64, string) {
	if given > 0 {
		return float64(given) / 1e6, flagName
	}
	if flagName == "--slow" {
		return float64(defaultSlowStart) / 1e6, "default"
	}
	return float64(defaultStall) / 1e6, "default"
}

// configured takes the thresholds from a session_start line's config: the
// stress detector's requests threshold (stress_slow.requests_ms: the wait
// for the first byte) and its stall threshold (any *stall*_ms value).
func (v *viewerStats) configured(ev *Event, slow, stall bool) {
	cfg, _ := ev.Fields["config"].(map[string]any)
	if cfg == nil {
		return
	}
	if rules, ok := cfg["stress_slow"].(map[string]any); ok && slow {
		if ms, ok := rules["requests_ms"].(float64); ok && ms > 0 && ms <= maxDurationMS {
			v.slowStart, v.slowStartFrom = ms, "the session's"
		}
	}
	if stall {
		if ms, ok := stallSetting(cfg, 0); ok {
			v.stall, v.stallFrom = ms, "the session's"
		}
	}
}

// stallSetting finds the stall threshold in a config: a positive number
// under a key naming a stall, in milliseconds (two levels deep at most).
func stallSetting(m map[string]any, depth int) (float64, bool) {
	for _, k := range sortedKeys(m) {
		switch x := m[k].(type) {
		case float64:
			if strings.Contains(k, "stall") && strings.HasSuffix(k, "_ms") && x > 0 && x <= maxDurationMS {
				return x, true
			}
		case map[string]any:
			if depth < 2 {
				if ms, ok := stallSetting(x, depth+1); ok {
					return ms, true
				}
			}
		}
	}
	return 0, false
}

// add counts what an event says about the viewers.
func (v *viewerStats) add(ev *Event, rng *rand.Rand) {
	switch {
	case ev.Category == "requests":
		v.requests++
		if code, ok := ev.num("status_code"); ok && code >= 0 && code < 1000 && code == math.Trunc(code) {
			v.statuses[int(code)]++
		} else if ev.str("error") != "" {
			v.noAnswer++
		}
		if t, ok := ev.num("ttfb_ms"); ok && t >= 0 && t <= maxDurationMS {
			v.ttfb.add(t, rng)
			if t >= v.slowStart {
				v.slowStarts++
			}
		}
		v.ended(ev)
	case ev.Category == "disconnects":
		v.ended(ev)
	case ev.Category == "stress":
		switch ev.str("event_type") {
		case "slow_request":
			v.slowRequestEvents++
		case "stream_stalled":
			v.stalledEvents++
			if ms, ok := ev.num("stall_ms"); ok && ms >= 0 && ms <= maxDurationMS {
				v.stalledEventsWithStall++
				v.longestStalledEventMS = math.Max(v.longestStalledEventMS, ms)
			}
		}
		return
	}
	if ms, ok := ev.num("max_stall_ms"); ok && ms >= 0 && ms <= maxDurationMS {
		v.maxStall.add(ms, rng)
		if ms >= v.stall {
			v.stalledStreams++
		}
	}
}

// ended counts how ev's stream ended: a requests line (Middleware puts
// its stream's end on it) or a disconnects line with a reason.
func (v *viewerStats) ended(ev *Event) {
	if reason := ev.str("reason"); reason != "" {
		if v.ends == nil {
			v.ends = map[string]int{}
		}
		v.ends[reason]++
	}
}

// print writes the viewers' lines of a session that served requests or
// streams.
func (v *viewerStats) print(out io.Writer) {
	if v.requests == 0 && v.maxStall.n == 0 && v.stalledEvents == 0 && v.slowRequestEvents == 0 && len(v.ends) == 0 {
		return
	}
	ms := func(x float64) string { return fmtDur(time.Duration(x * float64(time.Millisecond))) }
	// Requests, by how they were answered.
	codes := make([]int, 0, len(v.statuses))
	failed := 0
	for c, n := range v.statuses {
		codes = append(codes, c)
		if c >= 500 {
			failed += n
		}
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d × %d", v.statuses[c], c))
	}
	if v.noAnswer > 0 {
		parts = append(parts, fmt.Sprintf("%d with no answer (an error, no status)", v.noAnswer))
	}
	line := fmt.Sprintf("  requests     %d", v.requests)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if failed+v.noAnswer > 0 && v.requests > 0 {
		line += fmt.Sprintf(" (%.1f%% failed: 5xx or no answer)", 100*float64(failed+v.noAnswer)/float64(v.requests))
	}
	fmt.Fprintln(out, line)
	// Slow starts: the wait for the first byte.
	if v.ttfb.n > 0 {
		sort.Float64s(v.ttfb.samples)
		fmt.Fprintf(out, "  slow starts  %d of %d requests waited %s or more for their first byte (%s threshold; ttfb_ms p50 %s, p95 %s, max %s); %s\n",
			v.slowStarts, v.ttfb.n, ms(v.slowStart), v.slowStartFrom, ms(percentile(v.ttfb.samples, 50)), ms(percentile(v.ttfb.samples, 95)), ms(v.ttfb.max),
			plural(v.slowRequestEvents, "slow_request stress event"))
	} else {
		fmt.Fprintf(out, "  slow starts  %s; the wait for the first byte is not logged (no ttfb_ms: a proxy from before it)\n", plural(v.slowRequestEvents, "slow_request stress event"))
	}
	// Stalls: the longest gap of each stream.
	events := plural(v.stalledEvents, "stream_stalled stress event")
	if v.stalledEventsWithStall > 0 {
		events += ", the longest " + ms(v.longestStalledEventMS)
	}
	if v.maxStall.n > 0 {
		sort.Float64s(v.maxStall.samples)
		fmt.Fprintf(out, "  stalls       %d of %d streams stalled %s or more (%s threshold; max_stall_ms p50 %s, p95 %s, max %s); %s\n",
			v.stalledStreams, v.maxStall.n, ms(v.stall), v.stallFrom, ms(percentile(v.maxStall.samples, 50)), ms(percentile(v.maxStall.samples, 95)), ms(v.maxStall.max), events)
	} else {
		fmt.Fprintf(out, "  stalls       %s; the streams' longest gaps are not logged (no max_stall_ms: a proxy from before it)\n", events)
	}
	// How the streams ended.
	if len(v.ends) > 0 {
		reasons := sortedKeys(v.ends)
		sort.SliceStable(reasons, func(i, j int) bool { return v.ends[reasons[i]] > v.ends[reasons[j]] })
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%d %s", v.ends[r], escapeText(r))
		}
		fmt.Fprintf(out, "  ended        %s\n", strings.Join(parts, ", "))
	}
}
