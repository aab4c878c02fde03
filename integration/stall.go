package integration

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/slogdebug"
)

// stallThreshold is the stall threshold of logger's set-up (DEBUG_STRESS_STALL),
// 0 when stress detection is not running or the logger is not slogdebug's.
func stallThreshold(logger *slogdebug.Logger) time.Duration {
	if s, ok := logger.Handler().(stressevent.StallSource); ok {
		return s.StallThreshold()
	}
	return 0
}

// stallWatch notices, while CopyStream is blocked (in the engine's Read or
// the client's Write), that a stream has had no byte for longer than its
// threshold, and writes a streams line stream_stalled then (which stress
// detection turns into the stream_stalled event), and stream_resumed with
// the whole stall once bytes flow again.
//
// The copying goroutine pays an atomic store and load per chunk: a timer
// armed at the first chunk fires a threshold after the last chunk it knows
// of; finding a later chunk, it re-arms for the rest of the threshold from
// that one, so a healthy stream wakes it about once per threshold.
type stallWatch struct {
	ctx       context.Context
	log       *slogdebug.Logger
	clk       clock
	threshold time.Duration
	s         Stream
	start     time.Time // the base of last's offsets

	last      atomic.Int64 // the last chunk, in ns from start
	inWrite   atomic.Bool  // blocked writing to the client, not reading the engine
	suspected atomic.Bool  // set by fire before it reads last: a chunk that sees it takes mu

	mu         sync.Mutex
	t          timer         // nil until the first chunk
	stalled    bool          // a stall was reported and has not ended
	stallSince time.Duration // its start: the chunk before it, from start
	done       bool
}

func newStallWatch(ctx context.Context, log *slogdebug.Logger, clk clock, threshold time.Duration, s Stream, start time.Time) *stallWatch {
	return &stallWatch{ctx: ctx, log: log, clk: clk, threshold: threshold, s: s, start: start}
}

// chunk records a chunk's arrival at now (the copying goroutine only).
func (w *stallWatch) chunk(now time.Time) {
	off := now.Sub(w.start)
	w.last.Store(int64(off))
	if w.t == nil { // the first chunk: the watch begins (the wait before it is the ttfb's)
		w.mu.Lock()
		w.t = w.clk.AfterFunc(w.threshold, w.fire)
		w.mu.Unlock()
		return
	}
	if w.suspected.Load() {
		w.resume(off)
	}
}

// resume ends a reported stall with the chunk at off.
func (w *stallWatch) resume(off time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stalled && !w.done {
		w.stalled = false
		w.logLine(stressevent.StreamResumed, off-w.stallSince)
		w.t.Reset(w.threshold)
	}
	w.suspected.Store(false)
}

// fire runs on the timer's goroutine: it reports a stall once its
// threshold has passed, or re-arms for the rest of it from the last chunk.
func (w *stallWatch) fire() {
	if err := safego.Call(w.check); err != nil {
		w.log.LogError(w.ctx, "integration", "stream_stall_watch", err, slog.String("stream_id", w.s.ID))
	}
}

func (w *stallWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.stalled {
		return
	}
	w.suspected.Store(true) // before reading last: a chunk stored after this read sees it
	now, last := w.clk.Now().Sub(w.start), time.Duration(w.last.Load())
	if gap := now - last; gap < w.threshold {
		w.suspected.Store(false)
		w.t.Reset(w.threshold - gap)
		return
	}
	w.stalled, w.stallSince = true, last
	w.logLine(stressevent.StreamStalled, now-last)
}

// logLine writes a streams line of the stall (with the lock held, so that
// it comes before the stream's end line).
func (w *stallWatch) logLine(event string, stall time.Duration) {
	if !w.log.Enabled(w.ctx, slog.LevelDebug) {
		return
	}
	waiting := sideEngine
	if w.inWrite.Load() {
		waiting = sideClient
	}
	attrs := make([]slog.Attr, 0, 8+len(w.s.Attrs))
	attrs = append(attrs, slog.String(category.Key, category.Streams), slog.String("event_type", event), slog.String("stream_id", w.s.ID),
		slog.String("ace_id", w.s.AceID), slog.Duration("stall", stall), slog.Duration("threshold", w.threshold))
	if event == stressevent.StreamStalled {
		attrs = append(attrs, slog.String("waiting_on", waiting))
		if g, ok := w.log.Handler().(stressevent.GoroutineSnapshots); ok { // caught while it waits
			if name := g.GoroutineSnapshot(event); name != "" {
				attrs = append(attrs, slog.String(stressevent.GoroutinesKey, name))
			}
		}
	}
	w.log.LogAttrs(w.ctx, slog.LevelDebug, event, append(attrs, w.s.Attrs...)...)
}

// stop ends the watch: no line of it comes after.
func (w *stallWatch) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.t != nil {
		w.t.Stop()
	}
}
