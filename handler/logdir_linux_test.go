//go:build !debugmode_portable

package handler

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/tracefile"
)

// The log directory held open by descriptor is Linux's alone (see
// logdir_linux.go): elsewhere nothing is written while the directory's
// path is, or goes through, a symbolic link.

// TestDirectorySwappedForSymlinkIsNotFollowed moves the log directory away
// and puts a symbolic link to another directory at its path: nothing is
// written through the link; the files go on in the original directory,
// where it now is, and the swap is reported.
func TestDirectorySwappedForSymlinkIsNotFollowed(t *testing.T) {
	base := t.TempDir()
	dir, moved, target := filepath.Join(base, "logs"), filepath.Join(base, "moved"), filepath.Join(base, "target")
	require.NoError(t, os.Mkdir(target, 0o750))
	var reports errorLog
	h := newTestHandler(t, Options{Dir: dir, DefaultCategory: "c", FlushInterval: time.Hour, OnError: reports.onError})
	l := slog.New(h)
	l.Info("before")
	require.NoError(t, h.Flush())

	require.NoError(t, os.Rename(dir, moved))
	require.NoError(t, os.Symlink(target, dir))
	l.Info("after")
	l.Info("new category", "category", "fresh")
	_ = h.Flush()
	require.NoError(t, h.Close())

	assert.Empty(t, files(t, target), "nothing was written through the link")
	var msgs []any
	for _, m := range readLines(t, filepath.Join(moved, h.SessionID()+"_c.jsonl")) {
		msgs = append(msgs, m["msg"])
	}
	assert.Equal(t, []any{"before", "after"}, msgs, "the original directory keeps the session")
	fresh := readLines(t, filepath.Join(moved, h.SessionID()+"_fresh.jsonl"))
	require.Len(t, fresh, 1)
	session := readLines(t, filepath.Join(moved, h.SessionID()+"_session.jsonl"))
	assert.Equal(t, "session_end", session[len(session)-1]["event"])
	require.Error(t, h.Stats().LastError)
	assert.Contains(t, h.Stats().LastError.Error(), "symbolic link")
	assert.Contains(t, fmt.Sprint(reports.all()), "symbolic link")
}

// TestParentSwappedForSymlinkIsNotFollowed swaps a directory above the log
// directory for a link to a look-alike tree: nothing is written there.
func TestParentSwappedForSymlinkIsNotFollowed(t *testing.T) {
	base := t.TempDir()
	parent, moved, decoy := filepath.Join(base, "app"), filepath.Join(base, "app.moved"), filepath.Join(base, "decoy")
	dir := filepath.Join(parent, "logs")
	require.NoError(t, os.MkdirAll(filepath.Join(decoy, "logs"), 0o750))
	h := newTestHandler(t, Options{Dir: dir, DefaultCategory: "c", FlushInterval: time.Hour})
	l := slog.New(h)
	l.Info("before")
	require.NoError(t, h.Flush())

	require.NoError(t, os.Rename(parent, moved))
	require.NoError(t, os.Symlink(decoy, parent))
	l.Info("after")
	_ = h.Flush()
	require.NoError(t, h.Close())

	assert.Empty(t, files(t, filepath.Join(decoy, "logs")), "nothing was written through the link")
	lines := readLines(t, filepath.Join(moved, "logs", h.SessionID()+"_c.jsonl"))
	require.Len(t, lines, 2)
	assert.Equal(t, "after", lines[1]["msg"])
	assert.ErrorContains(t, h.Stats().LastError, "symbolic link")
}

// TestTheTraceSnapshotFollowsNoSymlinkSwappedInForTheDirectory is break 8
// of the second trust round: the snapshot reopened the log directory by
// path, so a symlink swapped in for it sent the snapshot elsewhere; the
// category files use the directory held since start, and so does it now.
func TestTheTraceSnapshotFollowsNoSymlinkSwappedInForTheDirectory(t *testing.T) {
	root := t.TempDir()
	dir, elsewhere := filepath.Join(root, "logs"), filepath.Join(root, "elsewhere")
	require.NoError(t, os.Mkdir(elsewhere, 0o750))
	h := newTestHandler(t, Options{Dir: dir, SessionID: "proxy"})
	require.NoError(t, os.Rename(dir, filepath.Join(root, "moved")))
	require.NoError(t, os.Symlink(elsewhere, dir))

	f, err := createTraceFile(h, tracefile.ExecutionTrace, 1, 0)
	require.NoError(t, err)
	_, err = f.Write(traceBytes)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Empty(t, files(t, elsewhere), "nothing went through the link")
	got, err := os.ReadFile(filepath.Join(root, "moved", "proxy_execution_trace_001.trace"))
	require.NoError(t, err)
	assert.Equal(t, traceBytes, got, "the snapshot is in the directory held, beside the session's files")
}

// TestAResumedSessionWritesWhereItWrote: a session paused (CloseWith) and
// resumed, as debug mode switched off and on, or the flight recorder's
// dumps, keeps the directory it held: a symlink swapped in for the path
// meanwhile leads nothing elsewhere (trust round 2, break 8, for dumps).
func TestAResumedSessionWritesWhereItWrote(t *testing.T) {
	root := t.TempDir()
	dir, elsewhere := filepath.Join(root, "logs"), filepath.Join(root, "elsewhere")
	require.NoError(t, os.Mkdir(elsewhere, 0o750))
	opts := Options{Dir: dir, SessionID: "proxy", DefaultCategory: "requests"}
	h := newTestHandler(t, opts)
	slog.New(h).Info("before")
	require.NoError(t, h.CloseWith("flight_recorder_dump"))
	require.NoError(t, os.Rename(dir, filepath.Join(root, "moved")))
	require.NoError(t, os.Symlink(elsewhere, dir))

	opts.Resume = h
	h2 := newTestHandler(t, opts)
	slog.New(h2).Info("after")
	require.NoError(t, h2.Close())
	assert.Empty(t, files(t, elsewhere), "nothing went through the link")
	lines := readLines(t, filepath.Join(root, "moved", "proxy_requests.jsonl"))
	require.Len(t, lines, 2)
	assert.Equal(t, "after", lines[1]["msg"])
}
