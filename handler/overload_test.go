package handler

import (
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
	stuck := make(chan struct{})   // closed when the writer is in the write
	release := make(chan struct{}) // closed by the test
	var once sync.Once
	hooks := &testHooks{writeFile: func(path string, f *os.File, p []byte) (int, error) {
		if strings.HasSuffix(path, "_c.jsonl") {
			once.Do(func() { close(stuck) })
			<-release
		}
		return f.Write(p)
	}}
	h, err := New(Options{Dir: t.TempDir(), QueueBytes: queue, FlushInterval: time.Hour, DefaultCategory: "c", hooks: hooks})
	require.NoError(t, err)
	defer func() {
		select {
		case <-release:
		default:
			close(release) // a failed assertion must not leave the writer stuck
		}
		h.Close()
	}()
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

	close(release)
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
