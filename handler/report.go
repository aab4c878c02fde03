package handler

import (
	"sync"
	"time"

	"github.com/proxydebug/debugmode/internal/safego"
)

// closeReportGrace is how long Close waits for the last report: a console
// stuck on a full disk must not hold it up for ever.
const closeReportGrace = time.Second

// reporter hands failures to Options.OnError on a goroutine nobody waits
// for (a console can block); failures meanwhile merge into the next report,
// so no count is lost and nothing piles up.
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

// note records a failure; it never blocks on the report.
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

// dueLocked makes a report due, starting a goroutine unless one runs.
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

// close reports what is left, waiting at most closeReportGrace.
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

// noteError counts and reports a failed write.
func (s *sink) noteError(err error, lost uint64) {
	s.writeErrors.Add(1)
	s.lastErr.set(err)
	s.rep.note(err, lost, false)
}

// notePanic counts and reports a recovered panic, the first at once.
func (s *sink) notePanic(err error, lost uint64) {
	s.panics.Add(1)
	s.lastErr.set(err)
	s.rep.note(err, lost, true)
}
