package slogdebug

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRecordClockIsTimeNow brackets recordClock.now between two time.Now
// calls on the monotonic clock, across resyncs, and checks that its wall
// clock is the last full reading's plus the monotonic time since: exact,
// whatever the machine's load (a wall clock compared with time.Now's
// would depend on how long a preemption split a reading's two clocks).
func TestRecordClockIsTimeNow(t *testing.T) {
	var c recordClock
	stale := time.Now().Add(-2 * clockResync) // the first call resyncs
	c.last.Store(&stale)
	prev := time.Time{}
	resyncs := 0
	var sync time.Time
	for i := range 20000 {
		before := time.Now()
		got := c.now()
		after := time.Now()
		require.False(t, got.Before(before), "call %d: %v before %v (monotonic)", i, got, before)
		require.False(t, got.After(after), "call %d: %v after %v (monotonic)", i, got, after)
		if s := *c.last.Load(); s != sync {
			sync = s
			resyncs++
		}
		require.Equal(t, got.Sub(sync), got.Round(0).Sub(sync.Round(0)), "call %d: the wall clock derived from the monotonic one", i)
		require.False(t, got.Before(prev), "call %d: went back", i)
		prev = got
	}
	require.GreaterOrEqual(t, resyncs, 1)

	// A reading in the future (a clock stepped back) is replaced at once.
	future := time.Now().Add(time.Hour)
	c.last.Store(&future)
	before := time.Now()
	got := c.now()
	require.False(t, got.Before(before))
	require.Equal(t, got, *c.last.Load(), "a full reading")
}
