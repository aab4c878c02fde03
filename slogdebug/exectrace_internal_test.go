package slogdebug

import (
	"errors"
	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/tracefile"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRecorder stands for runtime/trace.FlightRecorder: each WriteTo
// writes its bytes, then waits for release (when set) and fails with err,
// or panics with panicWith.
type fakeRecorder struct {
	data      string
	writing   chan struct{} // receives when a WriteTo starts
	release   chan struct{}
	err       error
	panicWith any
	stopped   bool
}

func (f *fakeRecorder) WriteTo(w io.Writer) (int64, error) {
	if f.writing != nil {
		f.writing <- struct{}{}
	}
	n, err := io.WriteString(w, f.data)
	if err != nil {
		return int64(n), err
	}
	if f.release != nil {
		<-f.release
	}
	if f.panicWith != nil {
		panic(f.panicWith)
	}
	return int64(n), f.err
}

func (f *fakeRecorder) Stop() { f.stopped = true }

func consoleOf(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }

// TestExecTraceOneSnapshotAtATime: an event while a snapshot is still
// being written gets none (counted as skipped), even past the cooldown; the
// caller never waits for the writing.
func TestExecTraceOneSnapshotAtATime(t *testing.T) {
	dir := t.TempDir()
	sess := sessionIn(t, dir, "s")
	rec := &fakeRecorder{data: "trace bytes", writing: make(chan struct{}), release: make(chan struct{})}
	e := newExecTrace(rec, time.Second, 0, consoleOf(io.Discard))
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	assert.Equal(t, "s_execution_trace_001.trace", e.snapshot(sess, "slow_request", at))
	<-rec.writing // the writer goroutine is in WriteTo; the caller has returned
	assert.Empty(t, e.snapshot(sess, "slow_request", at.Add(time.Hour)), "one is being written")
	close(rec.release)
	e.close()
	assert.True(t, rec.stopped)
	assert.Equal(t, ExecutionTraceStats{Snapshots: 1, Skipped: 1}, e.Stats())
	data, err := os.ReadFile(filepath.Join(dir, "s_execution_trace_001.trace"))
	require.NoError(t, err)
	assert.Equal(t, "trace bytes", string(data))
	assert.Empty(t, e.snapshot(sess, "slow_request", at.Add(2*time.Hour)), "after close: none")
}

// TestExecTraceCooldownAndNumbering: within the cooldown none; past it the
// next number; a new session starts again from 001.
func TestExecTraceCooldownAndNumbering(t *testing.T) {
	dir := t.TempDir()
	sess := sessionIn(t, dir, "s")
	other := sessionIn(t, dir, "t")
	rec := &fakeRecorder{data: "x"}
	e := newExecTrace(rec, time.Minute, 0o600, consoleOf(io.Discard))
	written := make(chan struct{}, 1)
	e.written = func() { written <- struct{}{} }
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	assert.Equal(t, "s_execution_trace_001.trace", e.snapshot(sess, "a", at))
	<-written
	assert.Empty(t, e.snapshot(sess, "b", at.Add(59*time.Second)), "within the cooldown")
	assert.Equal(t, "s_execution_trace_002.trace", e.snapshot(sess, "c", at.Add(time.Minute)))
	<-written
	assert.Equal(t, "t_execution_trace_001.trace", e.snapshot(other, "d", at.Add(2*time.Minute)))
	<-written
	e.close()
	assert.Equal(t, ExecutionTraceStats{Snapshots: 3, Skipped: 1}, e.Stats())
	for _, name := range []string{"s_execution_trace_001.trace", "s_execution_trace_002.trace", "t_execution_trace_001.trace"} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	st, err := os.Stat(filepath.Join(dir, "s_execution_trace_002.trace"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// TestExecTraceResumedSessionNumbersAfterItsSnapshots: a session resumed
// by a new recorder (a restarted process reusing its SessionID) names its
// next snapshot after those already on disk, never over one.
func TestExecTraceResumedSessionNumbersAfterItsSnapshots(t *testing.T) {
	dir := t.TempDir()
	sess := sessionIn(t, dir, "s")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s_execution_trace_003.trace"), []byte("earlier"), 0o600))
	e := newExecTrace(&fakeRecorder{data: "x"}, time.Minute, 0, consoleOf(io.Discard))
	written := make(chan struct{}, 1)
	e.written = func() { written <- struct{}{} }
	assert.Equal(t, "s_execution_trace_004.trace", e.snapshot(sess, "a", time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)))
	<-written
	e.close()
	assert.Equal(t, ExecutionTraceStats{Snapshots: 1}, e.Stats(), "written, not failed")
	data, err := os.ReadFile(filepath.Join(dir, "s_execution_trace_003.trace"))
	require.NoError(t, err)
	assert.Equal(t, "earlier", string(data))
}

// TestExecTraceFailedWriteIsRemovedAndReported: a snapshot that fails half
// way leaves no file; the failure is counted and said on the console; a
// panic in the writing is recovered the same way, and the next snapshot is
// written.
func TestExecTraceFailedWriteIsRemovedAndReported(t *testing.T) {
	dir := t.TempDir()
	sess := sessionIn(t, dir, "s")
	console := &syncWriter{}
	rec := &fakeRecorder{data: "half a trace", err: errors.New("trace reader broke")}
	e := newExecTrace(rec, time.Second, 0, consoleOf(console))
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	require.NotEmpty(t, e.snapshot(sess, "slow_request", at))
	e.close()
	assert.Equal(t, ExecutionTraceStats{Snapshots: 1, Failed: 1}, e.Stats())
	assert.Contains(t, console.String(), `msg="debug mode: writing the execution trace failed" file=s_execution_trace_001.trace event_type=slow_request error="trace reader broke"`)
	assert.NoFileExists(t, filepath.Join(dir, "s_execution_trace_001.trace"), "the partial file is removed")

	rec = &fakeRecorder{data: "x", panicWith: "boom"}
	e = newExecTrace(rec, time.Second, 0, consoleOf(console))
	require.NotEmpty(t, e.snapshot(sess, "slow_request", at))
	e.close()
	assert.Equal(t, ExecutionTraceStats{Snapshots: 1, Failed: 1}, e.Stats())
	assert.Contains(t, console.String(), "writing the snapshot panicked; recovered")
	assert.True(t, rec.stopped)
}

// newExecTrace writes rec's snapshots, at most one per cooldown.
func newExecTrace(rec traceRecorder, cooldown time.Duration, fileMode os.FileMode, console slog.Handler) *execTrace {
	return &execTrace{rec: rec, kind: tracefile.ExecutionTrace, what: "execution trace", cooldown: cooldown, fileMode: fileMode, console: console}
}

// sessionIn returns a Handler of session in dir, closed when the test
// ends: snapshots are created through the directory it holds.
func sessionIn(t *testing.T, dir, session string) *handler.Handler {
	t.Helper()
	h, err := handler.New(handler.Options{Dir: dir, SessionID: session})
	require.NoError(t, err)
	require.Equal(t, session, h.SessionID())
	t.Cleanup(func() { h.Close() })
	return h
}
