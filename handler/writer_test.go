package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentWritersLoseNothing is the race test: 8 goroutines x 10,000
// records, then Close, give exactly 80,000 valid lines, each goroutine's in
// order.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	const goroutines, perG = 8, 10_000
	dir := t.TempDir()
	// A small queue makes the writer swap often while callers append.
	h, err := New(Options{Dir: dir, QueueBytes: 64 << 10, BlockWhenFull: true})
	require.NoError(t, err)
	l := slog.New(h).With("category", "requests")

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				l.Debug("request", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, h.Close())

	lines := readLines(t, h.Path("requests"))
	require.Len(t, lines, goroutines*perG)
	next := make([]int, goroutines)
	for _, m := range lines {
		g := int(num(t, m["g"]))
		require.Equal(t, next[g], int(num(t, m["i"])), "goroutine %d out of order", g)
		next[g]++
	}
	st := h.Stats()
	assert.Equal(t, uint64(goroutines*perG), st.Categories["requests"].Written)
	assert.Zero(t, st.Dropped)
	assert.Zero(t, st.Failed)
}

// pauseWriter keeps the writer from draining until Flush: no wake-ups and
// no ticks, so the queue fills deterministically.
func pauseWriter(h *Handler) {
	h.s.mu.Lock()
	h.s.woken = true
	h.s.mu.Unlock()
}

func TestFullQueueDropsNewestAndCountsExactly(t *testing.T) {
	h := newTestHandler(t, Options{QueueBytes: 16 << 10, FlushInterval: time.Hour})
	l := slog.New(h).With("category", "c")
	pauseWriter(h)

	// With the writer paused, the queue takes records until it is full;
	// from then on every new record is dropped and counted.
	const n = 1000
	kept := -1
	for i := range n {
		l.Info("m", "i", i)
		dropped := h.Stats().Categories["c"].Dropped
		if kept < 0 && dropped > 0 {
			kept = i
		}
		if kept >= 0 {
			require.Equal(t, uint64(i-kept+1), dropped, "record %d", i)
		}
	}
	require.Positive(t, kept, "the queue filled up")

	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, kept)
	for i, m := range lines {
		require.Equal(t, float64(i), num(t, m["i"]), "the oldest records are kept, in order")
	}
	st := h.Stats().Categories["c"]
	assert.Equal(t, uint64(kept), st.Written)
	assert.Equal(t, uint64(n), st.Written+st.Dropped)

	// Once written, the queue takes records again.
	l.Info("m", "i", n)
	require.NoError(t, h.Flush())
	assert.Len(t, readLines(t, h.Path("c")), kept+1)
}

func TestBlockWhenFullWaitsInsteadOfDropping(t *testing.T) {
	h := newTestHandler(t, Options{QueueBytes: 1024, MaxLineBytes: 512, BlockWhenFull: true})
	l := slog.New(h).With("category", "c")
	for i := range 5000 {
		l.Info("m", "i", i)
	}
	require.NoError(t, h.Flush())
	assert.Len(t, readLines(t, h.Path("c")), 5000)
	assert.Zero(t, h.Stats().Dropped)
}

func TestFlushIntervalWritesWithoutFlush(t *testing.T) {
	rounds := make(chan struct{}, 1)
	hooks := &testHooks{afterWrite: func() {
		select {
		case rounds <- struct{}{}:
		default:
		}
	}}
	h := newTestHandler(t, Options{FlushInterval: 10 * time.Millisecond, DefaultCategory: "c", hooks: hooks})
	slog.New(h).Info("m") // far below the size that wakes the writer
	// No Flush: the periodic write must get there on its own. Wait for the
	// writer's rounds until one has written it.
	for range rounds {
		if h.Stats().Categories["c"].Written == 1 {
			break
		}
	}
	assert.Len(t, readLines(t, h.Path("c")), 1)
}

func TestCloseWritesEverythingAndIsIdempotent(t *testing.T) {
	h, err := New(Options{Dir: t.TempDir(), FlushInterval: time.Hour, DefaultCategory: "c"})
	require.NoError(t, err)
	pauseWriter(h)
	l := slog.New(h)
	for i := range 1000 {
		l.Info("m", "i", i)
	}
	require.NoError(t, h.Close())
	require.NoError(t, h.Close())
	require.NoError(t, h.Flush(), "Flush after Close has nothing to do")
	assert.Len(t, readLines(t, h.Path("c")), 1000)

	err = h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0))
	assert.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, uint64(1), h.Stats().Categories["c"].Dropped)
}

func TestConcurrentCloseAndLogging(t *testing.T) {
	h, err := New(Options{Dir: t.TempDir(), DefaultCategory: "c"})
	require.NoError(t, err)
	l := slog.New(h)
	var wg sync.WaitGroup
	spawn := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	for range 4 {
		spawn(func() {
			for i := range 2000 {
				l.Info("m", "i", i)
			}
		})
	}
	spawn(func() { h.Close() })
	spawn(func() { h.Flush() })
	wg.Wait()
	require.NoError(t, h.Close())
	st := h.Stats()
	assert.Equal(t, uint64(8000), st.Written-1+st.Dropped, "every record is written or counted as dropped") // -1: session_start
	if st.Categories["c"].Written == 0 {
		assert.NoFileExists(t, h.Path("c"), "Close came first")
		return
	}
	assert.Len(t, readLines(t, h.Path("c")), int(st.Categories["c"].Written))
}

func TestOverflowCategory(t *testing.T) {
	h := newTestHandler(t, Options{MaxCategories: 3})
	l := slog.New(h)
	for i := range 10 {
		l.Info("m", "category", fmt.Sprintf("cat%d", i))
	}
	require.NoError(t, h.Flush())
	// session + cat0 + cat1 fill the limit; the rest share the overflow file.
	assert.Len(t, readLines(t, h.Path("cat0")), 1)
	assert.Len(t, readLines(t, h.Path("cat1")), 1)
	over := readLines(t, h.Path(overflowCategory))
	require.Len(t, over, 8)
	assert.Equal(t, "cat2", over[0]["category"], "lines keep their own category")
	assert.NoFileExists(t, h.Path("cat2"))
}

// TestValuesAreTakenAtCallTime checks both queue paths: a mutable value is
// encoded before Handle returns, and a stable record is copied, so changes
// the caller makes afterwards never reach the file.
func TestValuesAreTakenAtCallTime(t *testing.T) {
	h := newTestHandler(t, Options{FlushInterval: time.Hour, DefaultCategory: "c"})
	pauseWriter(h)
	l := slog.New(h)
	m := map[string]int{"n": 1}
	l.Info("mutable", "m", m)
	m["n"] = 2

	attrs := []slog.Attr{slog.Int("a", 1), slog.Int("b", 2), slog.Int("c", 3), slog.Int("d", 4), slog.Int("e", 5), slog.Int("f", 6), slog.Int("g", 7)}
	l.LogAttrs(context.Background(), slog.LevelInfo, "stable", attrs...)
	attrs[6] = slog.Int("g", 700) // the caller reuses its slice

	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 2)
	assert.Equal(t, map[string]any{"n": json.Number("1")}, lines[0]["m"])
	assert.Equal(t, json.Number("7"), lines[1]["g"])
}

func TestOnDropIsCalledAfterTheWriteThatFollowsDrops(t *testing.T) {
	var calls atomic.Int64
	h := newTestHandler(t, Options{QueueBytes: 4096, FlushInterval: time.Hour, OnDrop: func() { calls.Add(1) }})
	pauseWriter(h)
	l := slog.New(h).With("category", "c")
	for i := range 500 {
		l.Info("m", "i", i)
	}
	dropped := h.Stats().Dropped
	require.Positive(t, dropped)
	assert.Zero(t, calls.Load(), "not while the queue is still full")
	require.NoError(t, h.Flush())
	assert.Equal(t, int64(1), calls.Load(), "once, after the write")
	require.NoError(t, h.Flush())
	assert.Equal(t, int64(1), calls.Load(), "not again without new drops")
	assert.Equal(t, dropped, h.Stats().Categories["c"].Dropped)
}
