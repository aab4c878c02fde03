package handler

import (
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOverload logs from 8 goroutines flat out into a writer slowed down
// to a fraction of their pace (every write takes 5ms): the goroutines never
// wait, memory stays bounded by the queue, and every record is either in
// the file or counted as dropped.
func TestOverload(t *testing.T) {
	const goroutines, perG = 8, 25_000
	const queue = 256 << 10
	h, err := New(Options{Dir: t.TempDir(), QueueBytes: queue, writeDelay: 5 * time.Millisecond, DefaultCategory: "c"})
	require.NoError(t, err)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the heap while the load runs
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()

	l := slog.New(h)
	start := time.Now()
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
	logging := time.Since(start)
	close(stop)
	<-sampled
	require.NoError(t, h.Close())

	st := h.Stats().Categories["c"]
	total := uint64(goroutines * perG)
	assert.Equal(t, total, st.Written+st.Dropped, "every record is written or counted")
	assert.Positive(t, st.Dropped, "the writer could not keep up")
	assert.Len(t, readLines(t, h.Path("c")), int(st.Written))
	growth := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("logged %d records in %v (%.0f/s), %d written, %d dropped; heap grew by at most %.1f MiB with a %d KiB queue",
		total, logging, float64(total)/logging.Seconds(), st.Written, st.Dropped, float64(growth)/(1<<20), queue>>10)
	assert.Less(t, growth, int64(16<<20), "memory stays bounded by the queue")
	// The writer needs at least 5ms a write; the callers never waited for it.
	assert.Less(t, logging, time.Duration(st.Written+st.Dropped)*time.Millisecond/10, "the callers did not wait for the writer")
}
