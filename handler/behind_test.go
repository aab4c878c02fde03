package handler

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCallersEncodeWhileTheWriterIsBehind holds the writer inside a write
// and fills the queue past half: from then on, until the writer takes the
// queue again, every record is encoded by its caller (the writer is spared
// that work), and the file holds every record, in order, the same lines
// either way.
func TestCallersEncodeWhileTheWriterIsBehind(t *testing.T) {
	const queue = 256 << 10
	stuck, release := make(chan struct{}), make(chan struct{})
	var stuckOnce, releaseOnce sync.Once
	var logging atomic.Bool // the test goroutine is inside a log call
	var byCaller atomic.Int64
	hooks := &testHooks{
		writeFile: func(path string, f *os.File, p []byte) (int, error) {
			if strings.HasSuffix(path, "_c.jsonl") {
				stuckOnce.Do(func() { close(stuck) })
				<-release
			}
			return f.Write(p)
		},
		beforeEncode: func(*slog.Record) {
			if logging.Load() {
				byCaller.Add(1)
			}
		},
	}
	h, err := New(Options{Dir: t.TempDir(), QueueBytes: queue, FlushInterval: time.Hour, DefaultCategory: "c", hooks: hooks})
	require.NoError(t, err)
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(func() { unblock(); h.Close() })
	l := slog.New(h)
	n := 0
	log := func() {
		logging.Store(true)
		l.Info("m", "i", n, "path", "/ace/getstream")
		logging.Store(false)
		n++
	}

	// Hold the writer inside the write of one record, the queue empty.
	log()
	flushed := make(chan error, 1)
	go func() { flushed <- h.Flush() }()
	<-stuck
	require.False(t, h.s.behind.Load())
	before := byCaller.Load()
	// Fill the queue past half; the writer, held, cannot take it.
	for !h.s.behind.Load() {
		require.Less(t, n, queue/100, "the queue never got past half")
		log()
	}
	assert.Equal(t, before, byCaller.Load(), "below the mark the writer encodes")
	const more = 50
	for range more {
		log()
	}
	assert.Equal(t, before+more, byCaller.Load(), "past the mark every caller encodes its record")

	unblock()
	require.NoError(t, <-flushed)
	require.NoError(t, h.Flush())
	assert.False(t, h.s.behind.Load(), "the writer took the queue: it is no longer behind")
	log()
	assert.Equal(t, before+more, byCaller.Load(), "the writer encodes again")

	require.NoError(t, h.Close())
	st := h.Stats().Categories["c"]
	assert.Zero(t, st.Dropped)
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, n)
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		return ks
	}
	for i, m := range lines {
		assert.Equal(t, float64(i), num(t, m["i"]), "line %d out of order", i)
		assert.Equal(t, "/ace/getstream", m["path"])
		assert.ElementsMatch(t, keys(lines[0]), keys(m), "line %d", i)
	}
}
