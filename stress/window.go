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
type window []time.Time

// add records an event at t and returns how many events fall within the
// span ending at t (an event exactly span before t has left it).
func (w *window) add(t time.Time, span time.Duration) int {
	times := append(*w, t)
	drop := 0
	for drop < len(times) && t.Sub(times[drop]) >= span {
		drop++
	}
	if drop = max(drop, len(times)-maxWindowEvents); drop > 0 {
		times = append(times[:0], times[drop:]...)
	}
	*w = times
	return len(times)
}

// sortAttrs sorts attributes by key.
func sortAttrs(attrs []slog.Attr) {
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
}
