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
}

const summaryUsage = `usage: debuglog summary [flags] DIR...

Per session and category: lines and time span; durations (p50/p95/p99/max of
duration_ms) per category and operation; stress events by type and severity;
errors by type; disconnects by reason. Both systems' files, guessed per file.

`

// cmdSummary prints, per session and category, line counts and time spans;
// duration percentiles per category and operation; the stress events; and
// the errors by type. It keeps aggregates, not events.
func cmdSummary(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("summary", summaryUsage)
	only := sessionFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	files, err := inputs(ctx, fs, pos, nil, nil, warn)
	if err != nil {
		return err
	}
	if files, err = pickSessions(files, *only, false, warn); err != nil { // each session is summed up apart: none mixed
		return err
	}
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
				sessions[key] = s
				order = append(order, key)
			}
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
