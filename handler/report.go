package handler

import (
	"sync"
	"time"

	"github.com/proxydebug/debugmode/internal/safego"
)

// closeReportGrace is how long Close waits for the last report to reach
// Options.OnError. A console that is stuck (stderr blocked on a full disk)
// must not hold Close up for ever: past the grace Close returns, and the
// reporter goroutine ends as soon as the console takes the report.
const closeReportGrace = time.Second

// reporter hands failures (write errors, recovered panics) to
// Options.OnError on a goroutine of its own, started at the first failure.
// Neither the writer nor a logging caller ever waits for it: OnError
// usually prints to a console, and a console can block. Its mailbox has one
// slot: failures noted while a report waits or is being made are merged
// into the next report, so that no count is lost and nothing piles up.
//
// Reports are handed over at most once per Options.ErrorInterval; the first
// panic is handed over at once; Close hands over what was not reported yet.
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
	last     time.Time // when the last report was handed over
	handed   uint64    // reports handed over
	panicked bool      // a panic was handed over
	due      bool      // the mailbox holds a report
	running  bool
	closed   bool
	wake     chan struct{} // one slot: a report is due, or Close was called
	done     chan struct{} // closed when the goroutine ends
}

// init sets the reporter up from the handler's options.
func (r *reporter) init(o Options, onPanic func(error)) {
	r.onError, r.onPanic = o.OnError, onPanic
	r.interval, r.grace, r.now = o.ErrorInterval, closeReportGrace, o.now
	if o.hooks != nil && o.hooks.reportGrace > 0 {
		r.grace = o.hooks.reportGrace
	}
}

// note records a failure that lost lines and hands a report over when one
// is due. It never blocks on the report; any goroutine may call it.
func (r *reporter) note(err error, lost uint64, isPanic bool) {
	if r.onError == nil {
		return
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
	r.errors++
	r.lost += lost
	if r.closed {
		return
	}
	firstPanic := isPanic && !r.panicked
	if firstPanic {
		r.panicked = true
	}
	if !firstPanic && !r.last.IsZero() && now.Sub(r.last) < r.interval {
		return // merged into the next report
	}
	r.last = now
	r.handOverLocked()
}

// handOverLocked puts a report in the mailbox (merged with the one there,
// if any) and wakes the reporter goroutine, starting it the first time.
func (r *reporter) handOverLocked() {
	if !r.due {
		r.handed++
	}
	r.due = true
	if !r.running {
		r.running = true
		r.wake = make(chan struct{}, 1)
		r.done = make(chan struct{})
		go r.run()
	}
	r.wakeLocked()
}

func (r *reporter) wakeLocked() {
	select {
	case r.wake <- struct{}{}:
	default: // already woken: it will see the mailbox
	}
}

// run is the reporter goroutine.
func (r *reporter) run() {
	defer close(r.done)
	for range r.wake {
		r.mu.Lock()
		due, closed := r.due, r.closed
		err, errors, lost := r.err, r.errors, r.lost
		if due {
			r.due, r.err, r.errors, r.lost = false, nil, 0, 0
		}
		r.mu.Unlock()
		if due {
			if perr := safego.Call(func() { r.onError(err, errors, lost) }); perr != nil {
				r.onPanic(perr)
			}
		}
		if closed {
			return // Close hands over its report before it wakes us
		}
	}
}

// close hands over what was not reported yet and stops the goroutine,
// waiting for it at most the grace period.
func (r *reporter) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	if r.errors > 0 {
		r.handOverLocked()
	}
	running := r.running
	if running {
		r.wakeLocked()
	}
	r.mu.Unlock()
	if !running {
		return
	}
	t := time.NewTimer(r.grace)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		// The console is stuck: leave the goroutine to end when it returns.
	}
}

// reportsHanded returns how many reports were handed over so far.
func (r *reporter) reportsHanded() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handed
}

// noteError counts a failed write that lost lines and reports it through
// Options.OnError. It runs on the writer goroutine (or in New).
func (s *sink) noteError(err error, lost uint64) {
	s.writeErrors.Add(1)
	s.lastErr.set(err)
	s.rep.note(err, lost, false)
}

// notePanic counts a recovered panic that lost lines and reports it
// through Options.OnError, the first one at once. Any goroutine may call
// it.
func (s *sink) notePanic(err error, lost uint64) {
	s.panics.Add(1)
	s.lastErr.set(err)
	s.rep.note(err, lost, true)
}
