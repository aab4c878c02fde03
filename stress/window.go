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
	times []time.Time
}

// add records an event at t and returns how many events fall within the
// span ending at t (an event exactly span before t has left it).
func (w *window) add(t time.Time, span time.Duration) int {
	w.times = append(w.times, t)
	drop := 0
	for drop < len(w.times) && t.Sub(w.times[drop]) >= span {
		drop++
	}
	if over := len(w.times) - drop - maxWindowEvents; over > 0 {
		drop += over
	}
	if drop > 0 {
		w.times = append(w.times[:0], w.times[drop:]...)
	}
	return len(w.times)
}

func sortAttrs(attrs []slog.Attr) {
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
}
