package handler

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestTimestampCacheMatchesDirectFormatting(t *testing.T) {
	var cache atomic.Pointer[timestampCache]
	base := time.Date(2026, 11, 26, 10, 8, 45, 0, time.UTC)
	for _, d := range []time.Duration{0, 1, 999_999_999, time.Second, time.Second + 5, 25 * time.Hour, -time.Nanosecond} {
		ts := base.Add(d).In(time.FixedZone("X", 7200))
		got := string(appendTimestampCached(nil, ts, &cache))
		want := string(appendTimestamp(nil, ts))
		if got != want {
			t.Fatalf("%v: cached %s, direct %s", ts, got, want)
		}
	}
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, want := string(appendTimestampCached(nil, far, &cache)), string(appendTimestamp(nil, far)); got != want {
		t.Fatalf("year 10000: cached %s, direct %s", got, want)
	}
}
