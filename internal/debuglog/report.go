package debuglog

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportTemplate string

const reportUsage = `usage: debuglog report [flags] [DIR...] -o report.html

One self-contained HTML file (it needs no network) to explore both systems'
events: lanes grouped by system and category; zoom (wheel, pinch), pan
(drag), brush (drag on the overview); filters by system, category, level,
request ID and text; click an event for its whole line and the events
correlated with it; a list of the events in view, synced with the chart. The
time axis folds long empty gaps, so an outlier cannot squash the rest.

Bounded whatever the input: every stress event, error, failure and slow
event is kept; the others are counted per lane and per pixel column of the
whole view (the density behind the marks) and at most --max of them are kept
individually, evenly over time.

flags:
`

// Report bounds.
const (
	reportBuckets     = 4000  // columns of the density histogram over the whole axis
	reportPlainEvents = 20000 // routine events kept individually
	reportKeyEvents   = 30000 // stress events, errors, failures: details kept for this many
	reportDetail      = 600   // characters of a line kept for its details
	reportPlainDetail = 200
	maxReportEffects  = 5000 // proxy effects whose causes the page shows
	reportStressFirst = 100  // per stress event type, the earliest drawn
	reportStressWorst = 100  // per stress event type, the worst drawn (severity, then duration)
	maxStressTypes    = 50   // stress event types told apart; the others are one
	maxStressCells    = 20000
	maxReportLanes    = 200 // lanes (system and category); the others are one
	maxReportSessions = 50  // sessions named in the title
	otherLanes        = "(other categories)"
)

// Event kinds, as flags in the page's data.
const (
	kindStress   = 1
	kindFailure  = 2 // an error, a failed operation, a 5xx
	kindSlow     = 4
	kindWarning  = 8
	kindCritical = 16
)

// reportData is the page's data, columnar to stay small.
type reportData struct {
	Title    string               `json:"title"`
	Base     int64                `json:"base"` // unix ms; times are ms after it
	Segments [][2]int64           `json:"segs"` // the axis' active intervals (ms after base); gaps between are folded
	Lanes    []laneJSON           `json:"lanes"`
	Names    []string             `json:"names"`
	Requests []string             `json:"reqs"`
	Buckets  int                  `json:"B"`
	Hist     [][]int64            `json:"hist"` // per lane: bucket, count, failures, max duration ms (flattened)
	T        []float64            `json:"t"`    // ms after base, 0.1 ms precision
	L        []int                `json:"l"`
	D        []float64            `json:"d"`
	N        []int                `json:"n"`
	K        []int                `json:"k"`
	R        []int                `json:"r"`
	I        []string             `json:"i"`
	Causes   map[string][]int     `json:"c"`           // event index -> its causes' indices
	Traces   map[string]traceLink `json:"x,omitempty"` // stress event index -> its execution trace snapshot
	Stacks   map[string]traceLink `json:"g,omitempty"` // stress event index -> its goroutine snapshot
	Stress   stressJSON           `json:"stress"`
	Total    int                  `json:"total"`
	Kept     int                  `json:"kept"`
	Warnings int                  `json:"warnings"`
}

type laneJSON struct {
	System   string `json:"sys"`
	Category string `json:"cat"`
	Count    int    `json:"n"`
}

// kept is an event kept individually.
type kept struct {
	t      time.Time
	lane   int
	dur    float64
	name   string
	kind   int
	req    string
	info   string
	ev     *Event // a proxy effect, for correlation
	orch   int32  // an orchestrator event's index as added (orchIndex), or -1
	order  int64
	trace  string // a stress event's execution trace snapshot
	stacks string // its goroutine snapshot
	rank   int    // a stress event's severity (severityRank)
}

// cmdReport writes the report.
func cmdReport(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("report", reportUsage)
	var proxy, orch stringList
	dirFlags(fs, &proxy, &orch)
	output := fs.String("o", "", "the HTML file to write (required)")
	cats := fs.String("category", "", "only these categories (comma-separated)")
	since := fs.String("since", "", "only events at or after this time")
	until := fs.String("until", "", "only events before this time")
	maxPlain := fs.Int("max", reportPlainEvents, "routine events kept individually (the rest are counted per pixel column)")
	poll := fs.Duration("poll", 5*time.Second, "the proxy's health-poll interval, for the correlations")
	sessions := sessionFlag(fs)
	store := storeFlags(fs, since, until)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *output == "" {
		return usageError(fs, "report wants -o FILE.html")
	}
	files, err := store.inputs(ctx, fs, pos, proxy, orch, warn)
	if err != nil {
		return err
	}
	if files, err = pickSessions(files, *sessions, true, warn); err != nil {
		return err
	}
	f, err := newFilter(*cats, *since, *until, "")
	if err != nil {
		return usageError(fs, "%v", err)
	}
	data, summary, err := buildReport(ctx, files, f, warn, max(*maxPlain, 0), *poll)
	if err != nil {
		return err
	}
	// The execution traces, linked from where the page is.
	outDir, err := filepath.Abs(filepath.Dir(*output))
	if err != nil {
		return err
	}
	for _, links := range []map[string]traceLink{data.Traces, data.Stacks} {
		for i, link := range links {
			link.Href = linkFrom(outDir, link.Path)
			links[i] = link
		}
	}
	js, err := json.Marshal(data) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	page := strings.Replace(reportTemplate, "/*DATA*/null", string(js), 1)
	page = strings.ReplaceAll(page, "<!--TITLE-->", htmlEscape(data.Title))
	if err := os.WriteFile(*output, []byte(page), 0o644); err != nil {
		return fmt.Errorf("cannot write the report to %s: %v", escapeText(*output), unwrapPath(err))
	}
	fmt.Fprintf(out, "wrote %s (%s): %s\n", escapeText(*output), byteSize(len(page)), summary)
	return nil
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// buildReport reads the files twice: first the time each second holds
// events (for the axis, which folds long gaps), then the events themselves,
// counted per lane and bucket, the key ones kept, the routine ones sampled
// per lane, the stress events summarised per type (stressTally). The
// proxy's files are read before the orchestrator's, so that only the
// orchestrator events that can explain a drawn effect are indexed.
func buildReport(ctx context.Context, files []file, f *filter, warn *warner, maxPlain int, poll time.Duration) (*reportData, string, error) {
	files = append([]file{}, files...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].system != systemOrch && files[j].system == systemOrch })
	// Pass 1: which seconds have events (and their first and last ms).
	var secs secondsSeen
	for _, fl := range files {
		if err := readFile(ctx, fl, warn, func(ev *Event) bool {
			if !ev.Time.IsZero() && f.match(ev) {
				secs.add(ev.Time)
			}
			return true
		}); err != nil {
			return nil, "", err
		}
	}
	data := &reportData{Buckets: reportBuckets, Causes: map[string][]int{}, Names: []string{}, Requests: []string{}}
	if len(secs.m) == 0 {
		data.Title = "debug report: no events"
		return data, "no events with a time", nil
	}
	segs := foldGaps(secs.m, secs.unit)
	base := segs[0][0]
	data.Base = base
	var width int64 // the axis' length in ms, gaps folded
	for _, s := range segs {
		data.Segments = append(data.Segments, [2]int64{s[0] - base, s[1] + 1 - base})
		width += s[1] + 1 - s[0]
	}
	// bucketOf maps a time onto the folded axis' buckets.
	bucketOf := func(t time.Time) int {
		ms := t.UnixMilli() - base
		var off int64
		for _, s := range data.Segments {
			if ms < s[1] || s == data.Segments[len(data.Segments)-1] {
				pos := off + max(ms-s[0], 0)
				return int(min(pos*reportBuckets/max(width, 1), reportBuckets-1))
			}
			off += s[1] - s[0]
		}
		return 0
	}

	// Pass 2: the events.
	lanes := map[string]int{}
	type hist struct{ n, fail, maxDur int64 }
	var hists []map[int]*hist
	var key []*kept
	var plain [][]*kept // per lane, a reservoir
	var seen []int64    // per lane, routine events seen
	rng := rand.New(rand.NewPCG(12, 34))
	var order int64
	ix := newOrchIndex(nil)
	var requestEffects []*kept
	var effects []*kept
	stress := newStressSummary(base)
	sessions := map[string]bool{}
	moreSessions := 0
	perLane := max(maxPlain/8, 1)
	effectsDone := false
	// finishEffects settles the effects to correlate once the proxy's files
	// are read: the stress events drawn, then failed and slow requests.
	finishEffects := func() {
		if effectsDone {
			return
		}
		effectsDone = true
		effects = append(stress.drawn(), requestEffects...)
		if len(effects) > maxReportEffects {
			effects = effects[:maxReportEffects]
		}
		ids := map[[2]string]bool{}
		for _, kp := range effects {
			if e := effectOf(kp.ev, 5*time.Second); e != nil {
				for match, vs := range e.ids {
					for _, v := range vs {
						ids[[2]string{match, v}] = true
					}
				}
			}
		}
		ix.wantIDs = ids
	}
	for _, fl := range files {
		fi := int32(-1)
		if fl.system == systemOrch {
			finishEffects()
			fi = ix.addFile(fl)
		}
		if err := readFile(ctx, fl, warn, func(ev *Event) bool {
			if ev.Time.IsZero() || !f.match(ev) {
				return true
			}
			data.Total++
			if sk := ev.System + " " + ev.Session; !sessions[sk] {
				if len(sessions) < maxReportSessions {
					sessions[sk] = true
				} else {
					moreSessions++
				}
			}
			lk := ev.System + "\x00" + ev.Category
			li, ok := lanes[lk]
			if !ok && len(data.Lanes) >= maxReportLanes { // a lane per category, within reason
				lk = ev.System + "\x00" + otherLanes
				li, ok = lanes[lk]
			}
			if !ok {
				li = len(data.Lanes)
				lanes[lk] = li
				data.Lanes = append(data.Lanes, laneJSON{System: ev.System, Category: strings.SplitN(lk, "\x00", 2)[1]})
				hists = append(hists, map[int]*hist{})
				plain = append(plain, nil)
				seen = append(seen, 0)
			}
			data.Lanes[li].Count++
			k := kindOf(ev)
			d, _ := ev.durationMS()
			b := bucketOf(ev.Time)
			h := hists[li][b]
			if h == nil {
				h = &hist{}
				hists[li][b] = h
			}
			h.n++
			if k&kindFailure != 0 {
				h.fail++
			}
			h.maxDur = max(h.maxDur, int64(math.Ceil(d)))
			order++
			oi := int32(-1)
			if fi >= 0 {
				oi = ix.add(fi, ev)
			}
			kp := &kept{t: ev.Time, lane: li, dur: d, name: ev.name(), kind: k, req: ev.str("request_id"), order: order, orch: oi}
			// Stress events: summarised per type, the first and the worst
			// of each drawn (stressTally).
			if k&kindStress != 0 {
				stress.add(ev, kp)
				return true
			}
			// Key events are kept one by one: failures, slow events and the
			// orchestrator's events up to a bound (past it they are sampled
			// like the rest).
			if (k != 0 || ev.System == systemOrch) && len(key) < reportKeyEvents {
				n := reportDetail
				if len(key) >= reportKeyEvents/3 {
					n = reportPlainDetail
				}
				kp.info = clip(rawLine(ev), n)
				if ev.System == systemProxy && k != 0 && ev.Category == "requests" && len(requestEffects) < maxReportEffects {
					kp.ev = ev // kept for the correlations
					requestEffects = append(requestEffects, kp)
				}
				key = append(key, kp)
				return true
			}
			// A routine event: a per-lane reservoir (Algorithm R).
			seen[li]++
			kp.info = clip(formatEvent(ev), reportPlainDetail)
			if len(plain[li]) < perLane {
				plain[li] = append(plain[li], kp)
			} else if j := rng.Int64N(seen[li]); j < int64(perLane) {
				plain[li][j] = kp
			}
			return true
		}); err != nil {
			return nil, "", err
		}
	}
	finishEffects()
	ix.sort()
	// Routine events: the reservoirs, thinned to maxPlain overall, the
	// fullest lanes first.
	var routine []*kept
	for _, p := range plain {
		routine = append(routine, p...)
	}
	if len(routine) > maxPlain {
		rng.Shuffle(len(routine), func(i, j int) { routine[i], routine[j] = routine[j], routine[i] })
		routine = routine[:maxPlain]
	}
	all := append(append(key, stress.drawn()...), routine...)
	sort.Slice(all, func(i, j int) bool {
		if !all[i].t.Equal(all[j].t) {
			return all[i].t.Before(all[j].t)
		}
		return all[i].order < all[j].order
	})
	// The columns.
	names, reqs := map[string]int{}, map[string]int{}
	effectAt := map[*kept]int{}
	orchAt := map[int32]int{} // an orchestrator event's index (sorted) -> where it is drawn
	for i, kp := range all {
		ni, ok := names[kp.name]
		if !ok {
			ni = len(data.Names)
			names[kp.name] = ni
			data.Names = append(data.Names, kp.name)
		}
		ri := -1
		if kp.req != "" {
			if ri, ok = reqs[kp.req]; !ok {
				ri = len(data.Requests)
				reqs[kp.req] = ri
				data.Requests = append(data.Requests, kp.req)
			}
		}
		// ms after base: UnixMilli holds any year (UnixNano overflows
		// past 2262), the fraction is added apart.
		data.T = append(data.T, math.Round((float64(kp.t.UnixMilli()-base)+float64(kp.t.Nanosecond()%1e6)/1e6)*10)/10)
		data.L = append(data.L, kp.lane)
		data.D = append(data.D, math.Round(kp.dur*10)/10)
		data.N = append(data.N, ni)
		data.K = append(data.K, kp.kind)
		data.R = append(data.R, ri)
		data.I = append(data.I, kp.info)
		if kp.ev != nil {
			effectAt[kp] = i
		}
		if kp.orch >= 0 {
			orchAt[ix.post[kp.orch]] = i
		}
		if kp.trace != "" {
			if data.Traces == nil {
				data.Traces = map[string]traceLink{}
			}
			data.Traces[strconv.Itoa(i)] = traceLink{Path: kp.trace}
		}
		if kp.stacks != "" {
			if data.Stacks == nil {
				data.Stacks = map[string]traceLink{}
			}
			data.Stacks[strconv.Itoa(i)] = traceLink{Path: kp.stacks}
		}
	}
	data.Kept = len(all)
	data.Stress = stress.toJSON()
	// Correlations: each proxy effect's ranked orchestrator causes.
	if ix.count > 0 {
		c := newCorrelator(ix, time.Second, poll, 5)
		for _, kp := range effects {
			if err := ctx.Err(); err != nil {
				return nil, "", err
			}
			e := effectOf(kp.ev, 5*time.Second)
			at, drawn := effectAt[kp]
			if e == nil || !drawn {
				continue
			}
			for _, cs := range c.explain(e, true) {
				if cs.match == matchTime {
					continue // a coincidence on another topic: not drawn as a link
				}
				if ci, ok := orchAt[cs.idx]; ok {
					key := strconv.Itoa(at)
					data.Causes[key] = append(data.Causes[key], ci)
				}
			}
		}
	}
	for _, hs := range hists {
		bs := make([]int, 0, len(hs))
		for b := range hs {
			bs = append(bs, b)
		}
		sort.Ints(bs)
		flat := make([]int64, 0, 4*len(bs))
		for _, b := range bs {
			h := hs[b]
			flat = append(flat, int64(b), h.n, h.fail, h.maxDur)
		}
		data.Hist = append(data.Hist, flat)
	}
	var ss []string
	for s := range sessions {
		ss = append(ss, s)
	}
	sort.Strings(ss)
	data.Title = "debug report: " + strings.Join(ss, ", ")
	if moreSessions > 0 {
		data.Title += fmt.Sprintf(" and %d more sessions", moreSessions)
	}
	data.Warnings = warn.skippedLines + warn.skippedFiles
	summary := fmt.Sprintf("%d events in %d lanes, %d drawn one by one (errors and failures, and per stress event type the first %d and the worst %d), the rest counted per pixel column; %s to %s",
		data.Total, len(data.Lanes), data.Kept, reportStressFirst, reportStressWorst, time.UnixMilli(base).UTC().Format(time.RFC3339), time.UnixMilli(base+data.Segments[len(data.Segments)-1][1]).UTC().Format("15:04:05"))
	if n := len(data.Segments) - 1; n > 0 {
		summary += fmt.Sprintf(" (%d empty gaps folded)", n)
	}
	return data, summary, nil
}

// secondsSeen are the seconds (or, past maxSecondKeys of them, coarser
// units: a span that long folds only gaps far longer than a unit) that hold
// events, with their first and last ms.
type secondsSeen struct {
	m    map[int64][2]int64
	unit int64 // seconds
}

// maxSecondKeys bounds the units kept (about 11 days of busy seconds).
const maxSecondKeys = 1 << 20

func (s *secondsSeen) add(t time.Time) {
	if s.m == nil {
		s.m, s.unit = map[int64][2]int64{}, 1
	}
	ms := t.UnixMilli()
	k := floorDiv(t.Unix(), s.unit)
	if r, ok := s.m[k]; ok {
		s.m[k] = [2]int64{min(r[0], ms), max(r[1], ms)}
		return
	}
	s.m[k] = [2]int64{ms, ms}
	if len(s.m) > maxSecondKeys { // coarser units
		s.unit *= 10
		old := s.m
		s.m = make(map[int64][2]int64, len(old)/4)
		for k, r := range old {
			nk := floorDiv(k, 10)
			if p, ok := s.m[nk]; ok {
				r = [2]int64{min(r[0], p[0]), max(r[1], p[1])}
			}
			s.m[nk] = r
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// foldGaps turns the seconds that hold events (with their first and last
// millisecond) into the axis' intervals, in unix ms: a quiet stretch of at
// least a minute and a tenth of the whole span is folded out, so that an
// outlier (a session_start hours before) or a night without events cannot
// squash the rest. Each interval is padded by a little of its length.
func foldGaps(seconds map[int64][2]int64, unit int64) [][2]int64 {
	ss := make([]int64, 0, len(seconds))
	for s := range seconds {
		ss = append(ss, s)
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
	span := (ss[len(ss)-1] - ss[0]) * unit
	minGap := max(int64(60), span/10) / unit
	segs := [][2]int64{seconds[ss[0]]}
	prev := ss[0]
	for _, s := range ss[1:] {
		last := &segs[len(segs)-1]
		if s-prev > minGap {
			segs = append(segs, seconds[s])
		} else {
			last[1] = seconds[s][1]
		}
		prev = s
	}
	for i := range segs {
		pad := max((segs[i][1]-segs[i][0])/50, 1)
		segs[i][0] -= pad
		segs[i][1] += pad
	}
	return segs
}

// kindOf classifies an event for the page: stress (with its severity), a
// failure (an error, a failed operation, a 5xx), slow (over threshold).
func kindOf(ev *Event) int {
	k := 0
	sev := ev.str("severity")
	if ev.Category == "stress" && ev.str("event_type") != "" {
		k |= kindStress
	}
	switch {
	case sev == "critical" || ev.str("level") == "ERROR":
		k |= kindCritical
	case sev == "warning" || ev.str("level") == "WARN":
		k |= kindWarning
	}
	status, _ := ev.num("status_code")
	if ev.Category == "errors" || ev.Fields["success"] == false || status >= 500 || ev.str("error") != "" || ev.str("error_message") != "" ||
		strings.HasSuffix(ev.name(), "_failed") || strings.HasSuffix(ev.name(), "_timeout") {
		k |= kindFailure
	}
	if ev.Fields["threshold_exceeded"] == true || strings.HasPrefix(ev.name(), "slow_") {
		k |= kindSlow
	}
	if ev.Category == "requests" && waited(ev) >= 5*time.Second { // the wait for the first byte, not a long stream
		k |= kindSlow
	}
	return k
}

// rawLine is the event's whole line, re-encoded: the envelope's keys
// first, in the line format's order, then the others by name.
func rawLine(ev *Event) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	put := func(k string, v any) {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			vb = []byte(`null`)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	head := []string{"session_id", "timestamp", "elapsed_seconds", "level", "category", "msg"}
	for _, k := range head {
		if v, ok := ev.Fields[k]; ok {
			put(k, v)
		}
	}
	rest := make([]string, 0, len(ev.Fields))
	for k := range ev.Fields {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		switch k {
		case "session_id", "timestamp", "elapsed_seconds", "level", "category", "msg":
			continue
		}
		put(k, ev.Fields[k])
	}
	b.WriteByte('}')
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
