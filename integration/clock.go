package integration

import (
	"sync/atomic"
	"time"
)

// clock is the time Middleware and CopyStream read: the real one, or a
// test's, so that a stream's first byte and its stalls are tested without
// sleeping.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) timer
}

// timer is what AfterFunc returns (*time.Timer).
type timer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// testClock is set by the package's tests only (export_test.go); nil: the
// real clock. Middleware reads it when it is built, CopyStream at each call.
var testClock atomic.Pointer[clock]

func currentClock() clock {
	if c := testClock.Load(); c != nil {
		return *c
	}
	return realClock{}
}
