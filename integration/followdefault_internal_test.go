package integration

import (
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/slogdebug"
)

// Init, run while requests resolve slogdebug.Default() (Transport, Client
// and Middleware without a logger): once it has returned, what they follow
// is its Logger, never the previous one, closed, under slog's new default.
func TestFollowDefaultEndsOnTheLastInit(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	var f followDefault
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f.get()
				}
			}
		}()
	}
	cfg := slogdebug.Config{Dir: t.TempDir(), Console: slog.NewTextHandler(io.Discard, nil)} // debug mode off: nothing to write
	var last *slogdebug.Logger
	for range 300 {
		l, err := slogdebug.Init(cfg)
		require.NoError(t, err)
		last = l
	}
	close(stop)
	wg.Wait()
	assert.Same(t, last, f.get())
	require.NoError(t, last.Close())
}
