package slogdebug

import (
	"sync/atomic"
	"time"
)

// clockResync is how long a recordClock goes on deriving the wall clock
// from the monotonic one before it reads the wall clock again: how long a
// step of the system clock (settimeofday, an NTP step) can go unnoticed in
// the records' timestamps.
const clockResync = 100 * time.Millisecond

// recordClock gives the typed helpers' records their time, as time.Now
// does (wall clock and monotonic reading), for about half its cost: it
// reads the monotonic clock alone and adds what it measured to the wall
// clock of the last full reading, taken again every clockResync. The two
// clocks run at the same rate (the kernel slews both alike), so the result
// is time.Now's unless the wall clock was stepped since the last reading.
// A Logger's core holds one; its zero value is ready.
type recordClock struct {
	last atomic.Pointer[time.Time] // the last full reading; nil before the first
}

// now returns the current time.
func (c *recordClock) now() time.Time {
	if s := c.last.Load(); s != nil {
		if d := time.Since(*s); d >= 0 && d < clockResync {
			return s.Add(d)
		}
	}
	t := time.Now()
	c.last.Store(&t)
	return t
}
