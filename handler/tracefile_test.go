package handler

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/tracefile"
)

// traceBytes stand for a snapshot: binary, no trailing newline, which
// repair must not cut.
var traceBytes = []byte("go 1.25 trace\x00\x00\x00\n\x01\x02binary without a final newline")

func TestCreateTraceFileWritesANewFileOfTheSession(t *testing.T) {
	dir := t.TempDir()
	h := newTestHandler(t, Options{Dir: dir, SessionID: "proxy"})
	f, err := createTraceFile(h, tracefile.ExecutionTrace, 1, 0)
	require.NoError(t, err)
	_, err = f.Write(traceBytes)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	got, err := os.ReadFile(filepath.Join(dir, "proxy_execution_trace_001.trace"))
	require.NoError(t, err)
	assert.Equal(t, traceBytes, got)
	st, err := os.Stat(filepath.Join(dir, "proxy_execution_trace_001.trace"))
	require.NoError(t, err)
	assert.Equal(t, config.DefaultFileMode, st.Mode().Perm())

	_, err = createTraceFile(h, tracefile.ExecutionTrace, 1, 0)
	assert.True(t, errors.Is(err, os.ErrExist), "never over a file that exists: %v", err)
	_, err = createTraceFile(dir, tracefile.ExecutionTrace, 1, 0)
	assert.Error(t, err, "a path is no handler")

	require.NoError(t, os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "proxy_execution_trace_002.trace")))
	_, err = createTraceFile(h, tracefile.ExecutionTrace, 2, 0)
	assert.Error(t, err, "a link planted at the snapshot's name")
	_, err = os.Lstat(filepath.Join(dir, "elsewhere"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "the link was not followed")

	require.NoError(t, h.Close())
	_, err = createTraceFile(h, tracefile.ExecutionTrace, 3, 0)
	assert.ErrorContains(t, err, "closed", "after Close, nothing is created by path")
}

func TestDiscardRemovesTheTraceFile(t *testing.T) {
	dir := t.TempDir()
	h := newTestHandler(t, Options{Dir: dir, SessionID: "proxy"})
	f, err := createTraceFile(h, tracefile.ExecutionTrace, 3, 0o600)
	require.NoError(t, err)
	_, err = f.Write(traceBytes[:4])
	require.NoError(t, err)
	require.NoError(t, f.Discard())
	assert.NoFileExists(t, filepath.Join(dir, "proxy_execution_trace_003.trace"))
}

// TestTraceSnapshotsGoWithTheirSession: an earlier session's snapshots,
// execution trace and goroutines, are left as they are by repair, counted
// by the disk budget with their session and deleted with it.
func TestTraceSnapshotsGoWithTheirSession(t *testing.T) {
	dir := t.TempDir()
	old := "20200101_000000"
	require.NoError(t, os.WriteFile(filepath.Join(dir, sessionFileName(old)), []byte("{\"msg\":\"session_start\"}\n"), 0o640))
	snaps := []string{filepath.Join(dir, tracefile.Name(old, 1)), filepath.Join(dir, tracefile.Goroutines.Name(old, 1))}
	for _, snap := range snaps {
		require.NoError(t, os.WriteFile(snap, traceBytes, 0o640))
	}

	h := newTestHandler(t, Options{Dir: dir, MaxSessions: -1})
	for _, snap := range snaps {
		got, err := os.ReadFile(snap)
		require.NoError(t, err)
		assert.Equal(t, traceBytes, got, "repair leaves a snapshot alone")
	}
	require.NoError(t, h.Close())
	assert.Zero(t, num(t, readLines(t, h.Path("session"))[0]["repaired_files"]))

	h2 := newTestHandler(t, Options{Dir: dir, MaxSessions: 1})
	require.NoError(t, h2.Flush())
	for _, snap := range snaps {
		_, err := os.Stat(snap)
		assert.True(t, errors.Is(err, os.ErrNotExist), "the snapshot went with its session: %s", snap)
	}
	_, err := os.Stat(filepath.Join(dir, sessionFileName(old)))
	assert.True(t, errors.Is(err, os.ErrNotExist))
}
