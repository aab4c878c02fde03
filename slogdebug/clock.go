package slogdebug

import (
	"sync/atomic"
	"time"
)

// clockResync is how long recordTime goes on deriving the wall clock from
// the monotonic one before it reads the wall clock again: how long a step
// of the system clock (settimeofday, an NTP step) can go unnoticed in the
// records' timestamps.
const clockResync = 100 * time.Millisecond

// clockSync is a reading of the wall and monotonic clocks together.
type clockSync struct{ t time.Time }

// lastSync is the last reading recordTime took; nil before the first.
var lastSync atomic.Pointer[clockSync]

// recordTime returns the current time for a typed helper's record, as
// time.Now does (wall clock and monotonic reading), for about half its
// cost: it reads the monotonic clock alone and adds what it measured to the
// wall clock of the last full reading, taken again every clockResync. The
// two clocks run at the same rate (the kernel slews both alike), so the
// result is time.Now's to the nanosecond unless the wall clock was stepped
// since the last reading.
func recordTime() time.Time {
	if s := lastSync.Load(); s != nil {
		if d := time.Since(s.t); d >= 0 && d < clockResync {
			return s.t.Add(d)
		}
	}
	t := time.Now()
	lastSync.Store(&clockSync{t: t})
	return t
}
