package integration

import (
	"context"
	"sync"
	"testing"
	"time"
)

// What the tests of package integration_test reach that is not exported.

// Poll polls once, as the monitor does on its interval, and returns the
// reading it stored.
func (m *HealthMonitor) Poll(ctx context.Context) HealthReading {
	m.poll(ctx)
	return *m.Last()
}

// BaseURL is the orchestrator's address, as New keeps it.
func (c *Client) BaseURL() string { return c.base }

// Classify is the reason of a stream ended by err.
func Classify(err error) string {
	reason, _ := classify(err)
	return reason
}

// NoEngineError is ProvisionWithRetry's error.
func NoEngineError(err error, retryAfter time.Duration) error {
	return &noEngineError{err: err, retryAfter: retryAfter}
}

// Backoff is the wait before retry number retry after err.
func Backoff(o Options, retry int, err error) time.Duration {
	return o.withDefaults().backoff(retry, err)
}

// SetNow sets the clock the Client reads how long the orchestrator has not
// been reached with.
func (c *Client) SetNow(now func() time.Time) { c.now = now }

// ErrorClass is the error_class of a call that did not reach the orchestrator.
func ErrorClass(err error) string { return errorClass(err) }

// FakeClock is a clock the test moves: Advance sets the time, then runs
// the timers due by then, one after another, on the caller's goroutine
// (time.AfterFunc would run each on a goroutine of its own).
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      *FakeClock
	at     time.Time
	f      func()
	active bool
}

// NewFakeClock returns a FakeClock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that Advance runs once d has passed.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f, active: true}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.at, t.active = t.c.now.Add(d), true
	return was
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

// Advance moves the clock by d, then runs every timer due, earliest first.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if t.active && !t.at.After(c.now) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next != nil {
			next.active = false
		}
		c.mu.Unlock()
		if next == nil {
			return
		}
		next.f()
	}
}

// UseClock makes Middleware (those built from now on) and CopyStream read
// c until the test ends.
func UseClock(t testing.TB, c *FakeClock) {
	var clk clock = c
	testClock.Store(&clk)
	t.Cleanup(func() { testClock.Store(nil) })
}
