package debuglog

import (
	"container/heap"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

const timelineUsage = `usage: debuglog timeline [flags] [DIR...]

Both systems' events merged in time order, one line each, with the fields
that matter for its category, in colour on a terminal (NO_COLOR=1 or
--color never turns it off). Every value is escaped: nothing in a file can
drive the terminal or forge a line. --follow watches the directories (of
both systems) and prints events as they are written, rotation included.

flags:
`

// cmdTimeline prints both systems' events merged in time order, one line
// each, filtered by category, time range and text. Each file is read as a
// stream; a small per-file buffer puts back in order lines written slightly
// out of order (the async writer's lines are in call order, not time order).
// With --follow it then watches the directories and prints what is written.
func cmdTimeline(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("timeline", timelineUsage)
	var proxy, orch stringList
	dirFlags(fs, &proxy, &orch)
	cats := fs.String("category", "", "only these categories (comma-separated)")
	since := fs.String("since", "", "only events at or after this time (RFC 3339, or a clock time 10:17:16)")
	until := fs.String("until", "", "only events before this time")
	grep := fs.String("grep", "", "only events whose line contains this text (case-insensitive)")
	followFlag := fs.Bool("follow", false, "then watch the directories and print events as they are written (rotation included), until interrupted")
	interval := fs.Duration("interval", 250*time.Millisecond, "with --follow, how often the files are checked")
	color := fs.String("color", "auto", "colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never")
	sessions := sessionFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	f, err := newFilter(*cats, *since, *until, *grep)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	p, err := paletteFor(*color, out)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	show := func(ev *Event) {
		if f.match(ev) && (len(*sessions) == 0 || sessions.has(ev.Session)) {
			fmt.Fprintln(out, formatEventColor(ev, p))
		}
	}
	if *followFlag {
		if *interval <= 0 {
			return usageError(fs, "--interval must be positive")
		}
		dirs, err := followDirs(fs, pos, proxy, orch)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "following %s (Ctrl-C to stop)\n", plural(len(dirs), "directory"))
		follow(ctx, dirs, warn, *interval, followTicks, show)
		return nil
	}
	files, err := inputs(ctx, fs, pos, proxy, orch, warn)
	if err != nil {
		return err
	}
	if files, err = pickSessions(files, *sessions, true, warn); err != nil {
		return err
	}
	return mergeEvents(ctx, files, warn, func(ev *Event) bool {
		show(ev)
		return true
	})
}

// followTicks, when set, drives timeline --follow's polls in place of its
// --interval (tests).
var followTicks <-chan time.Time

// followDirs are the directories --follow watches, with their system.
func followDirs(fs *flag.FlagSet, pos []string, proxy, orch stringList) ([]followDir, error) {
	var dirs []followDir
	for _, set := range []struct {
		paths  []string
		system string
	}{{pos, ""}, {proxy, systemProxy}, {orch, systemOrch}} {
		for _, p := range set.paths {
			fi, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %v (is the path right?)", escapeText(p), unwrapPath(err))
			}
			if !fi.IsDir() {
				return nil, usageError(fs, "--follow watches directories; %s is not one (give its directory)", escapeText(p))
			}
			dirs = append(dirs, followDir{p, set.system})
		}
	}
	if len(dirs) == 0 {
		return nil, usageError(fs, "no directories given")
	}
	return dirs, nil
}

// paletteFor decides on colour: always, never, or auto (stdout is a
// terminal, NO_COLOR is unset or empty, TERM is not dumb).
func paletteFor(mode string, out io.Writer) (palette, error) {
	switch mode {
	case "always":
		return palette{on: true}, nil
	case "never":
		return palette{}, nil
	case "auto":
		if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
			return palette{}, nil
		}
		if f, ok := out.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return palette{on: true}, nil
			}
		}
		return palette{}, nil
	}
	return palette{}, fmt.Errorf("--color %q: want auto, always or never", mode)
}

// filter selects events for timeline and report.
type filter struct {
	categories   map[string]bool
	since, until time.Time
	sinceClock   time.Duration // a clock time, resolved against the first event's day
	untilClock   time.Duration
	hasSince     bool
	hasUntil     bool
	grep         string
}

func newFilter(cats, since, until, grep string) (*filter, error) {
	f := &filter{grep: strings.ToLower(grep)}
	if cats != "" {
		f.categories = map[string]bool{}
		for _, c := range strings.Split(cats, ",") {
			f.categories[strings.TrimSpace(c)] = true
		}
	}
	var err error
	if since != "" {
		if f.since, f.sinceClock, err = parseWhen(since); err != nil {
			return nil, fmt.Errorf("--since %q: %v", since, err)
		}
		f.hasSince = true
	}
	if until != "" {
		if f.until, f.untilClock, err = parseWhen(until); err != nil {
			return nil, fmt.Errorf("--until %q: %v", until, err)
		}
		f.hasUntil = true
	}
	return f, nil
}

// parseWhen reads an RFC 3339 time, or a clock time (15:04:05[.000]) of the
// day of the first event.
func parseWhen(s string) (time.Time, time.Duration, error) {
	if t, err := parseTime(s); err == nil {
		return t, 0, nil
	}
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return time.Time{}, time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
				time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()), nil
		}
	}
	return time.Time{}, 0, fmt.Errorf("want RFC 3339 (2026-11-26T10:17:16Z) or a clock time (10:17:16)")
}

func (f *filter) match(ev *Event) bool {
	if f.categories != nil && !f.categories[ev.Category] {
		return false
	}
	if f.hasSince || f.hasUntil {
		if ev.Time.IsZero() {
			return false
		}
		day := ev.Time.Truncate(24 * time.Hour)
		if f.hasSince {
			since := f.since
			if since.IsZero() {
				since = day.Add(f.sinceClock)
			}
			if ev.Time.Before(since) {
				return false
			}
		}
		if f.hasUntil {
			until := f.until
			if until.IsZero() {
				until = day.Add(f.untilClock)
			}
			if !ev.Time.Before(until) {
				return false
			}
		}
	}
	if f.grep != "" && !strings.Contains(strings.ToLower(formatEvent(ev)), f.grep) {
		return false
	}
	return true
}

// reorderWindow is how many lines a file may be out of time order by.
const reorderWindow = 1024

// mergeEvents calls fn with the events of all files in time order (events
// without a time come first in their file's order).
func mergeEvents(ctx context.Context, files []file, warn *warner, fn func(*Event) bool) error {
	type source struct {
		events chan *Event
		errc   chan error
	}
	stop := make(chan struct{})
	defer close(stop)
	var sources []*source
	for _, f := range files {
		s := &source{events: make(chan *Event, 64), errc: make(chan error, 1)}
		sources = append(sources, s)
		go func() {
			defer close(s.events)
			var buf eventHeap
			emit := func(ev *Event) bool {
				select {
				case s.events <- ev:
					return true
				case <-stop:
					return false
				}
			}
			err := readFile(ctx, f, warn, func(ev *Event) bool {
				heap.Push(&buf, ev)
				if buf.Len() > reorderWindow {
					return emit(heap.Pop(&buf).(*Event))
				}
				return true
			})
			for buf.Len() > 0 {
				if !emit(heap.Pop(&buf).(*Event)) {
					break
				}
			}
			s.errc <- err
		}()
	}
	var h mergeHeap
	for i, s := range sources {
		if ev, ok := <-s.events; ok {
			heap.Push(&h, mergeItem{ev, i})
		}
	}
	for h.Len() > 0 {
		it := heap.Pop(&h).(mergeItem)
		if !fn(it.ev) {
			break
		}
		if ev, ok := <-sources[it.src].events; ok {
			heap.Push(&h, mergeItem{ev, it.src})
		}
	}
	var firstErr error
	for _, s := range sources {
		for range s.events { // drain, so the reader can finish
		}
		if err := <-s.errc; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// eventHeap orders events by time, then by file line.
type eventHeap []*Event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].Time.Equal(h[j].Time) {
		return h[i].Time.Before(h[j].Time)
	}
	return h[i].Line < h[j].Line
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*Event)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type mergeItem struct {
	ev  *Event
	src int
}

type mergeHeap []mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	a, b := h[i].ev, h[j].ev
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	return h[i].src < h[j].src
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
