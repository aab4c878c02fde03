package handler

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOverload logs from 8 goroutines flat out while the writer is stuck in
// a write (the slowest writer there is): the goroutines never wait for it
// (they all finish while it is still stuck), memory stays bounded by the
// queue, and once the writer is free again every record is either in the
// file or counted as dropped.
func TestOverload(t *testing.T) {
	const goroutines, perG = 8, 25_000
	const queue = 256 << 10
	h, stuck, release := newHeldHandler(t, queue)
	l := slog.New(h)

	// Fill the queue until the writer wakes up and gets stuck writing.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	first := 0
	for ; first < queue/64; first++ {
		l.Info("m", "g", -1, "i", first)
	}
	<-stuck

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				l.Info("m", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	// Every caller has returned, and the writer is still stuck: none of them
	// waited for it. What the handler holds now is the queue and the batch
	// being written.
	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	st := h.Stats().Categories["c"]
	assert.Zero(t, st.Written, "the writer is still stuck")
	assert.Positive(t, st.Dropped, "the queue filled up, and the newest records were dropped")
	growth := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %.1f MiB with a %d KiB queue", float64(growth)/(1<<20), queue>>10)
	assert.Less(t, growth, int64(16<<20), "memory stays bounded by the queue")

	release()
	require.NoError(t, h.Close())
	st = h.Stats().Categories["c"]
	total := uint64(first + goroutines*perG)
	assert.Equal(t, total, st.Written+st.Dropped, "every record is written or counted")
	assert.Zero(t, st.Failed)
	lines := readLines(t, h.Path("c"))
	assert.Len(t, lines, int(st.Written))
	// What was kept is in order, per goroutine.
	next := map[float64]float64{}
	for _, m := range lines {
		g, i := num(t, m["g"]), num(t, m["i"])
		require.Less(t, next[g]-1, i, "goroutine %v out of order", g)
		next[g] = i + 1
	}
	t.Logf("%d records: %d written, %d dropped", total, st.Written, st.Dropped)
}

// TestWarningsSurviveAFullQueue: the queue is full of debug records and
// the writer is stuck; warnings and errors (stress events, records_dropped
// among them) still get in, up to a reserve of a quarter of the queue, so
// the report of an overload is not lost to the overload.
func TestWarningsSurviveAFullQueue(t *testing.T) {
	const queue = 16 << 10
	h, stuck, release := newHeldHandler(t, queue)
	l := slog.New(h)
	for i := 0; i < queue; i++ { // the writer wakes, gets stuck; the queue fills
		l.Debug("m", "i", i)
	}
	<-stuck
	for i := 0; i < queue; i++ {
		l.Debug("m", "i", i)
	}
	before := h.Stats()
	require.Positive(t, before.Dropped, "the queue is full")
	sl := l.With("category", "stress")
	sl.Warn("records_dropped", "count", before.Dropped)
	sl.Error("provisioning_circuit_breaker", "error", "circuit breaker is open")
	// A flood of warnings is bounded too: by the reserve.
	for i := 0; i < queue; i++ {
		l.Warn("w", "i", i)
	}
	release()
	require.NoError(t, h.Flush())
	after := h.Stats()
	assert.Equal(t, uint64(2), after.Categories["stress"].Written, "both got in")
	assert.Zero(t, after.Categories["stress"].Dropped)
	assert.Positive(t, after.Categories["c"].Dropped-before.Categories["c"].Dropped, "the warnings' reserve is bounded")
	lines := readLines(t, h.Path("stress"))
	require.Len(t, lines, 2)
	assert.Equal(t, "records_dropped", lines[0]["msg"])
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Equal(t, "ERROR", lines[1]["level"])
}

// newHeldHandler returns a handler (default category "c") whose writer,
// once it starts writing the "c" file, is held inside that write: stuck is
// closed when it is, and release (idempotent) lets it go on. The test's
// end releases it if the test did not, and closes the handler.
func newHeldHandler(t *testing.T, queue int) (h *Handler, stuck <-chan struct{}, release func()) {
	t.Helper()
	stuckC, releaseC := make(chan struct{}), make(chan struct{})
	var stuckOnce, releaseOnce sync.Once
	hooks := &testHooks{writeFile: func(path string, f *os.File, p []byte) (int, error) {
		if strings.HasSuffix(path, "_c.jsonl") {
			stuckOnce.Do(func() { close(stuckC) })
			<-releaseC
		}
		return f.Write(p)
	}}
	h, err := New(Options{Dir: t.TempDir(), QueueBytes: queue, FlushInterval: time.Hour, DefaultCategory: "c", hooks: hooks})
	require.NoError(t, err)
	release = func() { releaseOnce.Do(func() { close(releaseC) }) }
	t.Cleanup(func() {
		release() // a failed assertion must not leave the writer stuck
		h.Close()
	})
	return h, stuckC, release
}

// TestTheWarnReserveHoldsLinesAtSmallQueues is break 5 of the second trust
// round: at the smallest accepted queue sizes a quarter of the queue was
// less than one line, and the stress events of an overload were dropped.
func TestTheWarnReserveHoldsLinesAtSmallQueues(t *testing.T) {
	for _, queue := range []int{256, 1 << 10, 4 << 10} {
		t.Run(fmt.Sprintf("queue=%d", queue), func(t *testing.T) {
			h, stuck, release := newHeldHandler(t, queue)
			l := slog.New(h)
			for i := 0; i < 64; i++ { // the writer wakes, gets stuck; the queue fills
				l.Debug("m", "i", i)
			}
			<-stuck
			for i := 0; i < 64; i++ {
				l.Debug("m", "i", i)
			}
			require.Positive(t, h.Stats().Dropped, "the queue is full")
			sl := l.With("category", "stress")
			sl.Warn("records_dropped", "count", 64)
			sl.Warn("slow_request", "duration", 6*time.Second, "path", "/ace/getstream")
			sl.Error("provisioning_circuit_breaker", "error", "circuit breaker is open")
			release()
			require.NoError(t, h.Flush())
			assert.Equal(t, uint64(3), h.Stats().Categories["stress"].Written)
			assert.Len(t, readLines(t, h.Path("stress")), 3)
		})
	}
}
