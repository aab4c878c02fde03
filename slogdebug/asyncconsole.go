package slogdebug

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

const (
	asyncConsoleLines = 256         // the library's console lines that may wait; past it they are dropped and counted
	asyncConsoleGrace = time.Second // how long Close waits for them
)

// asyncConsole writes the library's own console lines (stress events, write
// failures, execution trace failures) from a goroutine of its own, started
// with the first: a console that blocks (stderr into a log driver on a full
// disk) then holds up neither a request whose record fired a stress event,
// nor Close, nor a signal's Close. The program's own records still go to the
// console on their caller's goroutine, as with any slog handler.
type asyncConsole struct {
	q *consoleQueue
	h slog.Handler // the console, guarded
}

type consoleQueue struct {
	direct  bool // tests (Config.syncConsole): every line written by its caller
	start   sync.Once
	mu      sync.Mutex // guards closed against the sends
	closed  bool
	jobs    chan consoleJob
	done    chan struct{} // closed when the goroutine has written every job
	dropped atomic.Uint64 // lines dropped: the queue was full, or they came after close on a blocked console
}

type consoleJob struct {
	h       slog.Handler // nil: a flush's marker
	ctx     context.Context
	r       slog.Record
	flushed chan struct{} // a flush's marker: closed when reached
}

func newAsyncConsole(console slog.Handler) *asyncConsole {
	return &asyncConsole{q: &consoleQueue{jobs: make(chan consoleJob, asyncConsoleLines), done: make(chan struct{})}, h: console}
}

func (a *asyncConsole) Enabled(ctx context.Context, level slog.Level) bool {
	return a.h.Enabled(ctx, level)
}

// Handle queues a copy of r, or drops it when asyncConsoleLines wait; after
// close it writes r itself (nothing is left to hold up).
func (a *asyncConsole) Handle(ctx context.Context, r slog.Record) error {
	q := a.q
	if q.direct {
		return a.h.Handle(ctx, r)
	}
	q.start.Do(func() { go q.run() })
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return a.h.Handle(ctx, r)
	}
	select {
	case q.jobs <- consoleJob{h: a.h, ctx: ctx, r: r.Clone()}:
	default:
		q.dropped.Add(1)
	}
	q.mu.Unlock()
	return nil
}

func (a *asyncConsole) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &asyncConsole{q: a.q, h: a.h.WithAttrs(attrs)}
}

func (a *asyncConsole) WithGroup(name string) slog.Handler {
	return &asyncConsole{q: a.q, h: a.h.WithGroup(name)}
}

func (q *consoleQueue) run() {
	defer close(q.done)
	for job := range q.jobs {
		if job.flushed != nil {
			close(job.flushed)
			continue
		}
		_ = job.h.Handle(job.ctx, job.r) // guarded: a panic is recovered and counted
	}
}

// flush waits, at most grace, for the lines queued before it.
func (q *consoleQueue) flush(grace time.Duration) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	idle := false
	q.start.Do(func() { go q.run() })
	marker := make(chan struct{})
	select {
	case q.jobs <- consoleJob{flushed: marker}:
	default: // full: the console is far behind
		idle = true
	}
	q.mu.Unlock()
	if idle {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-marker:
	case <-t.C:
	}
}

// close waits at most grace for the lines queued, then lets the goroutine
// go on alone if the console still blocks; the lines it did not write by
// then are counted as dropped. Later lines are written by their callers.
func (q *consoleQueue) close(grace time.Duration) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	close(q.jobs)
	q.mu.Unlock()
	idle := false
	q.start.Do(func() { idle = true }) // never started: nothing to wait for
	if idle {
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
		q.dropped.Add(uint64(len(q.jobs)))
	}
}
