package slogdebug

import (
	"bytes"
	"context"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/tracetool"
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
	tracetool.WaitParked(t, "slogdebug.waitForSnapshot(", 1)
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
