package slogdebug

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRecordTimeIsTimeNow brackets recordTime between two time.Now calls,
// on the monotonic clock (exactly) and on the wall clock (the two clocks
// run at the same rate; a millisecond of slack is left for a wall clock
// stepped by NTP while the test runs), across resyncs.
func TestRecordTimeIsTimeNow(t *testing.T) {
	lastSync.Store(&clockSync{t: time.Now().Add(-2 * clockResync)}) // stale: the first call resyncs
	prev := time.Time{}
	for i := range 20000 {
		before := time.Now()
		got := recordTime()
		after := time.Now()
		require.False(t, got.Before(before), "call %d: %v before %v (monotonic)", i, got, before)
		require.False(t, got.After(after), "call %d: %v after %v (monotonic)", i, got, after)
		wall := got.Round(0)
		require.False(t, wall.Before(before.Round(0).Add(-time.Millisecond)), "call %d: wall %v, before %v", i, wall, before)
		require.False(t, wall.After(after.Round(0).Add(time.Millisecond)), "call %d: wall %v, after %v", i, wall, after)
		require.False(t, got.Before(prev), "call %d: went back", i)
		prev = got
	}
	// A reading in the future (a clock stepped back) is replaced at once.
	lastSync.Store(&clockSync{t: time.Now().Add(time.Hour)})
	before := time.Now()
	got := recordTime()
	require.False(t, got.Before(before))
	require.Less(t, got.Round(0).Sub(before.Round(0)), time.Minute)
}
