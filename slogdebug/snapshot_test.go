package slogdebug

import (
	"bytes"
	"context"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/redact"
)

// waitForSnapshot is where the labelled goroutine of the test below waits.
//
//go:noinline
func waitForSnapshot(started chan<- struct{}, release <-chan struct{}) {
	close(started)
	<-release
}

// TestAGoroutineSnapshotShowsEveryFrameRedacted: a snapshot has each
// stack's profiler labels, its frames the runtime's included (what it
// waits on), and no secret a label carried.
func TestAGoroutineSnapshotShowsEveryFrameRedacted(t *testing.T) {
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go pprof.Do(context.Background(), pprof.Labels("request_id", "req-snap", "route", "/ace/getstream?token=s3cret"), func(context.Context) {
		defer close(done)
		waitForSnapshot(started, release)
	})
	<-started
	waitParked(t, "slogdebug.waitForSnapshot(", 1)
	var buf bytes.Buffer
	_, err := goroutineProfile{red: redact.New()}.WriteTo(&buf)
	close(release)
	<-done
	require.NoError(t, err)
	text := buf.String()
	assert.True(t, strings.HasPrefix(text, "goroutine profile: total "), text[:min(len(text), 200)])
	var ours string
	for _, entry := range strings.Split(text, "\n\n") {
		if strings.Contains(entry, "req-snap") {
			ours = entry
		}
	}
	require.NotEmpty(t, ours, "the labelled goroutine is in it")
	assert.Contains(t, ours, "slogdebug.waitForSnapshot")
	assert.Contains(t, ours, "runtime.gopark", "the runtime's frames are shown")
	assert.Contains(t, ours, "runtime.chanrecv")
	assert.NotContains(t, text, "s3cret", "redacted as the files are")
}

// waitParked returns once n goroutines stand in fn blocked on a channel
// receive (the goroutine profile with states, debug=2, says so): closing
// a channel just before the receive does not tell that the receive has
// begun.
func waitParked(t *testing.T, fn string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a bound to fail by, not a timing
	for {
		var b bytes.Buffer
		require.NoError(t, pprof.Lookup("goroutine").WriteTo(&b, 2))
		parked := 0
		for _, g := range strings.Split(b.String(), "\n\n") {
			if strings.Contains(g, "[chan receive") && strings.Contains(g, fn) {
				parked++
			}
		}
		if parked >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines blocked in %s, want %d:\n%s", parked, fn, n, b.String())
		}
		runtime.Gosched()
	}
}
