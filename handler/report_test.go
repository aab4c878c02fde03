package handler

import (
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stuckConsole is an OnError that prints to a console which blocks (stderr
// on a full disk) until the test releases it.
type stuckConsole struct {
	entered chan struct{} // closed at the first report
	release chan struct{} // closed by the test
	once    sync.Once
	mu      sync.Mutex
	reports []uint64 // lines lost, per report
}

func newStuckConsole(t *testing.T) *stuckConsole {
	c := &stuckConsole{entered: make(chan struct{}), release: make(chan struct{})}
	// Released at the end, so that the reporter goroutine ends (goleak).
	t.Cleanup(func() { c.unblock() })
	return c
}

func (c *stuckConsole) onError(_ error, _, lost uint64) {
	c.once.Do(func() { close(c.entered) })
	<-c.release
	c.mu.Lock()
	c.reports = append(c.reports, lost)
	c.mu.Unlock()
}

func (c *stuckConsole) unblock() {
	select {
	case <-c.release:
	default:
		close(c.release)
	}
}

// diskFull fails every write to category files named c.
func diskFull() *testHooks {
	return &testHooks{writeFile: func(path string, f *os.File, p []byte) (int, error) {
		if strings.HasSuffix(path, "_c.jsonl") {
			return 0, syscall.ENOSPC
		}
		return f.Write(p)
	}}
}

// TestStuckConsoleNeverHoldsUpTheWriter: with the disk full and the
// console that reports it blocked, callers that wait for room
// (BlockWhenFull) and Flush and Close all return, while the console is
// still blocked; every record is accounted for.
func TestStuckConsoleNeverHoldsUpTheWriter(t *testing.T) {
	for _, mode := range []string{"block", "drop"} {
		t.Run(mode, func(t *testing.T) {
			console := newStuckConsole(t)
			h, err := New(Options{Dir: t.TempDir(), DefaultCategory: "c", QueueBytes: 4096, FlushInterval: time.Hour,
				BlockWhenFull: mode == "block", OnError: console.onError, hooks: diskFull()})
			require.NoError(t, err)
			l := slog.New(h)

			l.Info("first")
			require.ErrorIs(t, h.Flush(), syscall.ENOSPC)
			<-console.entered // the report is stuck in the console from here on

			const goroutines, perG = 4, 2000
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
			wg.Wait()     // in block mode, each waited for room: the writer kept draining
			_ = h.Flush() // returns (with an error if anything was left to write)
			require.NoError(t, h.Close())

			select {
			case <-console.release:
				t.Fatal("the console was released before Close returned")
			default:
			}
			st := h.Stats()
			c := st.Categories["c"]
			total := uint64(1 + goroutines*perG)
			assert.Zero(t, c.Written)
			assert.Equal(t, total, c.Failed+c.Dropped, "every record is failed or dropped")
			if mode == "block" {
				assert.Zero(t, c.Dropped)
			}
			assert.Positive(t, st.WriteErrors)
			assert.Equal(t, float64(c.Failed), num(t, sessionEnd(t, h)["records_failed"]))

			// Released, the console gets the reports that waited, merged: every
			// lost line is in one of them.
			console.unblock()
			<-h.s.rep.done
			var lost uint64
			for _, n := range console.reports {
				lost += n
			}
			assert.Equal(t, c.Failed, lost)
			assert.LessOrEqual(t, len(console.reports), 2, "the first report, and what Close added")
		})
	}
}

// TestReportsAreMergedWhileTheConsoleIsBusy: failures noted while a report
// is being made are not lost: they come in the next report.
func TestReportsAreMergedWhileTheConsoleIsBusy(t *testing.T) {
	console := newStuckConsole(t)
	hooks := diskFull()
	hooks.reportGrace = time.Hour // Close waits for the last report
	h, err := New(Options{Dir: t.TempDir(), DefaultCategory: "c", FlushInterval: time.Hour,
		ErrorInterval: time.Nanosecond, OnError: console.onError, hooks: hooks})
	require.NoError(t, err)
	l := slog.New(h)
	l.Info("first")
	require.Error(t, h.Flush())
	<-console.entered
	for i := range 10 { // ten failed writes, one line each, while the console is busy
		l.Info("m", "i", i)
		require.Error(t, h.Flush())
	}
	console.unblock()
	require.NoError(t, h.Close())
	var lost uint64
	for _, n := range console.reports {
		lost += n
	}
	assert.Equal(t, uint64(11), lost)
	assert.LessOrEqual(t, len(console.reports), 3, "the first report, the merged ones, what Close added")
	assert.Equal(t, uint64(11), h.Stats().WriteErrors)
}

// reportsHanded returns how many reports were made due so far.
func (r *reporter) reportsHanded() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handed
}
