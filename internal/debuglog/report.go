package debuglog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

// maxReportEvents bounds the events a report draws; past it, events
// without a duration or a stress mark are sampled evenly.
const maxReportEvents = 50_000

// reportEvent is an event as the page's script reads it.
type reportEvent struct {
	T      int64   `json:"t"`           // unix milliseconds
	D      float64 `json:"d,omitempty"` // duration in ms, when it has one
	Lane   int     `json:"l"`
	Name   string  `json:"n"`
	Stress string  `json:"s,omitempty"` // severity, for stress events
	Info   string  `json:"i,omitempty"` // the line, for the tooltip
}

type reportData struct {
	Title   string        `json:"title"`
	Lanes   []string      `json:"lanes"`
	Events  []reportEvent `json:"events"`
	Sampled int           `json:"sampled"` // events left out
	Start   int64         `json:"start"`
	End     int64         `json:"end"`
}

const reportUsage = `usage: debuglog report [flags] [DIR...] -o report.html

One self-contained HTML file (it needs no network) to explore both systems'
events: a lane per system and category, zoom and pan, filters, details.

flags:
`

// cmdReport writes one self-contained HTML file (no network needed to view
// it) with a timeline: a lane per system and category, request and
// operation durations as bars, stress events marked.
func cmdReport(args []string, out io.Writer, warn *warner) error {
	fs := newFlags("report", reportUsage)
	var proxy, orch stringList
	fs.Var(&proxy, "proxy", "a directory of the proxy's files (repeatable)")
	fs.Var(&orch, "orch", "a directory of the orchestrator's files (repeatable)")
	output := fs.String("o", "", "the HTML file to write (required)")
	cats := fs.String("category", "", "only these categories (comma-separated)")
	since := fs.String("since", "", "only events at or after this time")
	until := fs.String("until", "", "only events before this time")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *output == "" {
		return usageError(fs, "report wants -o FILE.html")
	}
	files, err := inputs(fs, pos, proxy, orch, warn)
	if err != nil {
		return err
	}
	f, err := newFilter(*cats, *since, *until, "")
	if err != nil {
		return usageError(fs, "%v", err)
	}

	data := reportData{Title: "debug timeline"}
	lanes := map[string]int{}
	var plain []reportEvent // events that may be sampled away
	var sessions []string
	seen := map[string]bool{}
	err = mergeEvents(files, warn, func(ev *Event) bool {
		if ev.Time.IsZero() || !f.match(ev) {
			return true
		}
		lane := ev.System + " / " + ev.Category
		li, ok := lanes[lane]
		if !ok {
			li = len(data.Lanes)
			lanes[lane] = li
			data.Lanes = append(data.Lanes, lane)
		}
		if key := ev.System + " " + ev.Session; !seen[key] {
			seen[key] = true
			sessions = append(sessions, key)
		}
		re := reportEvent{T: ev.Time.UnixMilli(), Lane: li, Name: ev.name(), Info: tooltip(ev)}
		if d, ok := ev.num("duration_ms"); ok && d > 0 {
			re.D = d
		}
		if ev.Category == "stress" {
			re.Stress = firstNonEmpty(ev.str("severity"), "warning")
		}
		if data.Start == 0 || re.T < data.Start {
			data.Start = re.T
		}
		data.End = max(data.End, re.T)
		if re.D > 0 || re.Stress != "" {
			data.Events = append(data.Events, re)
		} else {
			plain = append(plain, re)
		}
		if len(plain) > 2*maxReportEvents {
			plain, data.Sampled = halve(plain), data.Sampled+len(plain)/2
		}
		return true
	})
	if err != nil {
		return err
	}
	if room := maxReportEvents - len(data.Events); len(plain) > room {
		step := float64(len(plain)) / float64(max(room, 1))
		var kept []reportEvent
		for x := 0.0; int(x) < len(plain) && len(kept) < room; x += step {
			kept = append(kept, plain[int(x)])
		}
		data.Sampled += len(plain) - len(kept)
		plain = kept
	}
	data.Events = append(data.Events, plain...)
	sort.Slice(data.Events, func(i, j int) bool { return data.Events[i].T < data.Events[j].T })
	sort.Strings(sessions)
	data.Title = "debug timeline: " + strings.Join(sessions, ", ")

	js, err := json.Marshal(data) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	page := strings.Replace(reportTemplate, "/*DATA*/null", string(js), 1)
	page = strings.ReplaceAll(page, "<!--TITLE-->", htmlEscape(data.Title))
	if err := os.WriteFile(*output, []byte(page), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s: %d events in %d lanes from %s to %s", *output, len(data.Events), len(data.Lanes),
		time.UnixMilli(data.Start).UTC().Format(time.RFC3339), time.UnixMilli(data.End).UTC().Format("15:04:05"))
	if data.Sampled > 0 {
		fmt.Fprintf(out, " (%d events without a duration sampled away)", data.Sampled)
	}
	fmt.Fprintln(out)
	return nil
}

// halve keeps every other event.
func halve(evs []reportEvent) []reportEvent {
	out := evs[:0]
	for i := 0; i < len(evs); i += 2 {
		out = append(out, evs[i])
	}
	return out
}

// tooltip is the event's timeline line, bounded.
func tooltip(ev *Event) string {
	s := formatEvent(ev)
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
