package slogdebug

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stuckConsole is a console that blocks every write from the first one on
// (stderr behind a container log driver on a full disk) until released.
type stuckConsole struct {
	entered chan struct{} // closed at the first write
	release chan struct{} // closed by the test
	printed chan string   // what each write printed, once released
	once    sync.Once
}

func (c *stuckConsole) Write(p []byte) (int, error) {
	c.once.Do(func() { close(c.entered) })
	<-c.release
	c.printed <- string(p)
	return len(p), nil
}

// TestStuckConsoleNeverHoldsUpDebugMode: the debug files cannot be written
// (their directory is gone and a file stands in its place) and the console
// that reports it is stuck: log calls that wait for room, Flush and Close
// all return while it is stuck, and the report reaches it once it moves.
func TestStuckConsoleNeverHoldsUpDebugMode(t *testing.T) {
	console := &stuckConsole{entered: make(chan struct{}), release: make(chan struct{}), printed: make(chan string, 10)}
	released := false
	release := func() {
		if !released {
			released = true
			close(console.release)
		}
	}
	defer release()
	dir := filepath.Join(t.TempDir(), "logs")
	// At Warn: the console's first line is the report (New's "debug mode
	// on", at Info, would be written before the console is stuck, as the
	// program's own start-up lines are).
	l, err := New(Config{Enabled: true, Dir: dir, BlockWhenFull: true, QueueBytes: 4096, FlushInterval: time.Hour,
		ConsoleLevel: slog.LevelWarn}, console)
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.WriteFile(dir, nil, 0o600)) // the directory cannot come back
	l.LogRequest(ctx, "GET", "/first", time.Millisecond, 200, "")
	require.Error(t, l.Flush())
	<-console.entered // the report is stuck in the console from here on

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				l.LogRequest(ctx, "GET", "/x", time.Millisecond, 200, "")
			}
		}()
	}
	wg.Wait()
	_ = l.Flush()
	_ = l.Close() // session_end cannot be written either

	st := l.Stats()
	assert.Equal(t, uint64(4001), st.Categories["requests"].Failed, "every record is counted as failed")
	assert.Zero(t, st.Dropped)

	release()
	// The reporter goroutine prints what waited and ends (goleak checks it).
	assert.Contains(t, <-console.printed, "debug mode: writing the debug files failed")
}
