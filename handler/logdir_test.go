package handler

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeletedDirectoryIsRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	h := newTestHandler(t, Options{Dir: dir, DefaultCategory: "c"})
	l := slog.New(h)
	l.Info("before")
	require.NoError(t, h.Flush())

	require.NoError(t, os.RemoveAll(dir)) // a cleanup cron
	l.Info("after")
	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 1, "a new file, not the unlinked one")
	assert.Equal(t, "after", lines[0]["msg"])
	assert.Positive(t, h.Stats().FilesRecreated)

	require.NoError(t, os.Remove(h.Path("c"))) // just the file
	l.Info("again")
	require.NoError(t, h.Close())
	lines = readLines(t, h.Path("c"))
	require.Len(t, lines, 1)
	assert.Equal(t, "again", lines[0]["msg"])
	session := readLines(t, h.Path("session"))
	assert.Equal(t, "session_end", session[len(session)-1]["event"])
}

// errorLog collects what Options.OnError is told.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (e *errorLog) onError(err error, _, _ uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err.Error())
}

func (e *errorLog) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.errs...)
}

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

// TestDeletedDirectoryReplacedBySymlink deletes the log directory and puts
// a symbolic link at its path: nothing is written through it, the records
// are counted as failed, and writing resumes once the path is free again.
func TestDeletedDirectoryReplacedBySymlink(t *testing.T) {
	base := t.TempDir()
	dir, target := filepath.Join(base, "logs"), filepath.Join(base, "target")
	require.NoError(t, os.Mkdir(target, 0o750))
	h := newTestHandler(t, Options{Dir: dir, DefaultCategory: "c", FlushInterval: time.Hour})
	l := slog.New(h)
	l.Info("before")
	require.NoError(t, h.Flush())

	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Symlink(target, dir))
	l.Info("lost")
	require.Error(t, h.Flush())
	assert.Empty(t, files(t, target), "nothing was written through the link")
	assert.Equal(t, uint64(1), h.Stats().Categories["c"].Failed)

	require.NoError(t, os.Remove(dir)) // the operator removes the link
	l.Info("after")
	require.NoError(t, h.Close())
	assert.Empty(t, files(t, target))
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 1)
	assert.Equal(t, "after", lines[0]["msg"])
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

// TestFIFOAtALogPathIsRefused plants a FIFO at a log file's path: the
// writer neither blocks on it nor writes into it, and says why.
func TestFIFOAtALogPathIsRefused(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c", FlushInterval: time.Hour})
	require.NoError(t, syscall.Mkfifo(h.Path("c"), 0o640))
	slog.New(h).Info("m")
	err := h.Flush()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a regular file")
	assert.Equal(t, uint64(1), h.Stats().Categories["c"].Failed)
}

// TestDirectoryReplacedByAnotherDirectory moves the log directory aside
// and makes a new one at its path: writing goes on in the new one, and the
// session stays live there.
func TestDirectoryReplacedByAnotherDirectory(t *testing.T) {
	base := t.TempDir()
	dir, moved := filepath.Join(base, "logs"), filepath.Join(base, "logs.1")
	h := newTestHandler(t, Options{Dir: dir, DefaultCategory: "c", FlushInterval: time.Hour})
	l := slog.New(h)
	l.Info("before")
	require.NoError(t, h.Flush())

	require.NoError(t, os.Rename(dir, moved)) // a log rotation tool
	require.NoError(t, os.Mkdir(dir, 0o750))
	l.Info("after")
	require.NoError(t, h.Flush())
	assert.Equal(t, "after", only(t, h, "c")["msg"])
	assert.Equal(t, "before", readLines(t, filepath.Join(moved, h.SessionID()+"_c.jsonl"))[0]["msg"])
	ld, err := openLogDir(dir, 0o750)
	require.NoError(t, err)
	defer ld.close()
	guard := newSessionGuard(ld)
	defer guard.release()
	assert.Equal(t, live, guard.check(h.SessionID()), "the session file in the new directory is locked")
}
