package handler

import (
	"sync"
	"time"

	"github.com/proxydebug/debugmode/internal/safego"
)

// closeReportGrace is how long Close waits for the last report to reach
// Options.OnError: past it Close returns (a console stuck on a full disk
// must not hold it up for ever), and the reporter goroutine ends when the
// console takes the report.
const closeReportGrace = time.Second

// reporter hands failures (write errors, recovered panics) to
// Options.OnError on a goroutine of its own, which neither the writer nor
// a caller waits for: a console can block. Failures noted while a report
// waits or is being made are merged into the next one, so no count is lost
// and nothing piles up. A report is due at most once per ErrorInterval,
// the first panic at once, and what is left at Close.
type reporter struct {
	onError  func(err error, errors, lost uint64)
	onPanic  func(err error) // counts a panic of onError itself
	interval time.Duration
	grace    time.Duration
	now      func() time.Time

	mu       sync.Mutex
	err      error     // the latest failure not reported yet
	errors   uint64    // failures not reported yet
	lost     uint64    // lines lost by them
	last     time.Time // when the last report was due
	handed   uint64    // reports made due (for tests)
	panicked bool      // a panic was reported
	due      bool      // a report is due
	busy     bool      // a goroutine is making the reports due
	closed   bool
	done     chan struct{} // closed when the last goroutine started ends
}

func (r *reporter) init(o Options, onPanic func(error)) {
	r.onError, r.onPanic = o.OnError, onPanic
	r.interval, r.grace, r.now = o.ErrorInterval, closeReportGrace, o.now
	if o.hooks != nil && o.hooks.reportGrace > 0 {
		r.grace = o.hooks.reportGrace
	}
}

// note records a failure that lost lines and makes a report due when one
// is. It never blocks on the report; any goroutine may call it.
func (r *reporter) note(err error, lost uint64, isPanic bool) {
	if r.onError == nil {
		return
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err, r.errors, r.lost = err, r.errors+1, r.lost+lost
	firstPanic := isPanic && !r.panicked
	r.panicked = r.panicked || isPanic
	if r.closed || !firstPanic && !r.last.IsZero() && now.Sub(r.last) < r.interval {
		return // merged into the next report
	}
	r.last = now
	r.dueLocked()
}

// dueLocked makes a report due and starts a goroutine to make it, unless
// one is running: that one makes it next.
func (r *reporter) dueLocked() {
	if !r.due {
		r.handed++
	}
	r.due = true
	if !r.busy {
		r.busy, r.done = true, make(chan struct{})
		go r.run(r.done)
	}
}

// run makes the reports due, one at a time, until none is.
func (r *reporter) run(done chan struct{}) {
	defer close(done)
	r.mu.Lock()
	for r.due {
		err, errors, lost := r.err, r.errors, r.lost
		r.due, r.err, r.errors, r.lost = false, nil, 0, 0
		r.mu.Unlock()
		if perr := safego.Call(func() { r.onError(err, errors, lost) }); perr != nil {
			r.onPanic(perr)
		}
		r.mu.Lock()
	}
	r.busy = false
	r.mu.Unlock()
}

// close makes due what was not reported yet and waits for the reports, at
// most the grace period. It is called once.
func (r *reporter) close() {
	r.mu.Lock()
	r.closed = true
	if r.errors > 0 {
		r.dueLocked()
	}
	busy, done := r.busy, r.done
	r.mu.Unlock()
	if busy {
		select {
		case <-done:
		case <-time.After(r.grace): // the console is stuck: the goroutine ends when it returns
		}
	}
}

// noteError counts a failed write that lost lines and reports it. It runs
// on the writer goroutine (or in New).
func (s *sink) noteError(err error, lost uint64) {
	s.writeErrors.Add(1)
	s.lastErr.set(err)
	s.rep.note(err, lost, false)
}

// notePanic counts a recovered panic that lost lines and reports it, the
// first one at once. Any goroutine may call it.
func (s *sink) notePanic(err error, lost uint64) {
	s.panics.Add(1)
	s.lastErr.set(err)
	s.rep.note(err, lost, true)
}
