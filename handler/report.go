package handler

import (
	"sync"
	"time"

	"github.com/proxydebug/debugmode/internal/safego"
)

// closeReportGrace is how long Close waits for the last report: a console
// stuck on a full disk must not hold it up for ever.
const closeReportGrace = time.Second

// reporter is the state of the reports to Options.OnError, made on a
// goroutine nobody waits for (a console can block); failures meanwhile
// merge into the next report, so no count is lost and nothing piles up.
type reporter struct {
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

// noteError counts and reports a failed write.
func (s *sink) noteError(err error, lost uint64) {
	s.writeErrors.Add(1)
	s.report(err, lost, false)
}

// notePanic counts and reports a recovered panic, the first at once.
func (s *sink) notePanic(err error, lost uint64) {
	s.panics.Add(1)
	s.report(err, lost, true)
}

// report keeps err as Stats.LastError and hands it to Options.OnError at
// most once per ErrorInterval; it never blocks on the report.
func (s *sink) report(err error, lost uint64, isPanic bool) {
	s.lastErr.Store(&err)
	if s.opts.OnError == nil {
		return
	}
	now := s.opts.now()
	r := &s.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err, r.errors, r.lost = err, r.errors+1, r.lost+lost
	firstPanic := isPanic && !r.panicked
	r.panicked = r.panicked || isPanic
	if r.closed || !firstPanic && !r.last.IsZero() && now.Sub(r.last) < s.opts.ErrorInterval {
		return // merged into the next report
	}
	r.last = now
	s.reportDueLocked()
}

// reportDueLocked makes a report due, starting a goroutine unless one runs.
func (s *sink) reportDueLocked() {
	r := &s.rep
	if !r.due {
		r.handed++
	}
	r.due = true
	if !r.busy {
		r.busy, r.done = true, make(chan struct{})
		go s.runReports(r.done)
	}
}

func (s *sink) runReports(done chan struct{}) {
	defer close(done)
	r := &s.rep
	r.mu.Lock()
	for r.due {
		err, errors, lost := r.err, r.errors, r.lost
		r.due, r.err, r.errors, r.lost = false, nil, 0, 0
		r.mu.Unlock()
		if perr := safego.Call(func() { s.opts.OnError(err, errors, lost) }); perr != nil {
			s.panics.Add(1) // of OnError itself: counted, not reported again
			s.lastErr.Store(&perr)
		}
		r.mu.Lock()
	}
	r.busy = false
	r.mu.Unlock()
}

// closeReports reports what is left, waiting at most closeReportGrace.
func (s *sink) closeReports() {
	r := &s.rep
	r.mu.Lock()
	r.closed = true
	if r.errors > 0 {
		s.reportDueLocked()
	}
	busy, done := r.busy, r.done
	r.mu.Unlock()
	grace := closeReportGrace
	if hk := s.opts.hooks; hk != nil && hk.reportGrace > 0 {
		grace = hk.reportGrace
	}
	if busy {
		select {
		case <-done:
		case <-time.After(grace): // the console is stuck: the goroutine ends when it returns
		}
	}
}
