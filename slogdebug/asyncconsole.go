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
	q *jobQueue
	h slog.Handler // the console, guarded
}

// jobQueue runs the library's jobs (console lines, Config.OnStress calls)
// in order on a goroutine of its own, started with the first; at most
// asyncConsoleLines wait, past it a job is dropped and counted. A job
// recovers its own panics.
type jobQueue struct {
	direct  bool // tests (Config.syncConsole): every job run by its caller
	start   sync.Once
	mu      sync.Mutex // guards closed against the sends
	closed  bool
	jobs    chan func()
	done    chan struct{} // closed when the goroutine has run every job
	dropped atomic.Uint64 // jobs dropped: the queue was full, or they came after close on a blocked goroutine
}

func newJobQueue() *jobQueue {
	return &jobQueue{jobs: make(chan func(), asyncConsoleLines), done: make(chan struct{})}
}

func newAsyncConsole(console slog.Handler) *asyncConsole {
	return &asyncConsole{q: newJobQueue(), h: console}
}

func (a *asyncConsole) Enabled(ctx context.Context, level slog.Level) bool {
	return a.h.Enabled(ctx, level)
}

// Handle queues a copy of r, or drops it when asyncConsoleLines wait; after
// close it writes r itself (nothing is left to hold up).
func (a *asyncConsole) Handle(ctx context.Context, r slog.Record) error {
	if a.q.direct {
		return a.h.Handle(ctx, r)
	}
	h, rc := a.h, r.Clone()
	if !a.q.send(func() { _ = h.Handle(ctx, rc) }) { // guarded: a panic is recovered and counted
		return a.h.Handle(ctx, r)
	}
	return nil
}

func (a *asyncConsole) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &asyncConsole{q: a.q, h: a.h.WithAttrs(attrs)}
}

func (a *asyncConsole) WithGroup(name string) slog.Handler {
	return &asyncConsole{q: a.q, h: a.h.WithGroup(name)}
}

// send queues job, or drops and counts it when asyncConsoleLines wait; it
// reports false, queuing nothing, once the queue is closed.
func (q *jobQueue) send(job func()) bool {
	q.start.Do(func() { go q.run() })
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	select {
	case q.jobs <- job:
	default:
		q.dropped.Add(1)
	}
	return true
}

func (q *jobQueue) run() {
	defer close(q.done)
	for job := range q.jobs {
		job()
	}
}

// flush waits, at most grace, for the jobs queued before it.
func (q *jobQueue) flush(grace time.Duration) {
	marker := make(chan struct{})
	q.mu.Lock()
	queued := !q.closed
	if queued {
		q.start.Do(func() { go q.run() })
		select {
		case q.jobs <- func() { close(marker) }:
		default: // full: the console is far behind
			queued = false
		}
	}
	q.mu.Unlock()
	if queued {
		closedWithin(marker, grace)
	}
}

// close waits at most grace for the jobs queued, then lets the goroutine go
// on alone if a job still blocks; the jobs it did not run by then are
// counted as dropped. Later sends report false.
func (q *jobQueue) close(grace time.Duration) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	close(q.jobs)
	q.mu.Unlock()
	started := true
	q.start.Do(func() { started = false }) // never started: nothing to wait for
	if started && !closedWithin(q.done, grace) {
		q.dropped.Add(uint64(len(q.jobs)))
	}
}

// closedWithin reports whether ch is closed within grace.
func closedWithin(ch <-chan struct{}, grace time.Duration) bool {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}
