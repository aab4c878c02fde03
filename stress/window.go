package stress

import (
	"log/slog"
	"sort"
	"time"

	"github.com/proxydebug/debugmode/internal/config"
)

// maxWindowEvents bounds a window: enough to tell that the largest count
// of a rate was exceeded.
const maxWindowEvents = config.MaxRateCount + 1

// window counts events in a sliding time window: the times of the events
// within the last span, oldest first, at most maxWindowEvents of them.
type window struct {
	times []time.Time // the events from start on are within the window
	start int
}

// add records an event at t and returns how many events fall within the
// span ending at t (an event exactly span before t has left it). It costs
// O(1) amortized: the events that left are skipped, and the slice is
// compacted only once they are half of it.
func (w *window) add(t time.Time, span time.Duration) int {
	w.times = append(w.times, t)
	for w.start < len(w.times) && t.Sub(w.times[w.start]) >= span {
		w.start++
	}
	if n := len(w.times) - w.start; n > maxWindowEvents {
		w.start += n - maxWindowEvents
	}
	if w.start > len(w.times)/2 {
		w.times = append(w.times[:0], w.times[w.start:]...)
		w.start = 0
	}
	return len(w.times) - w.start
}

// sortAttrs sorts attributes by key.
func sortAttrs(attrs []slog.Attr) {
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
}
