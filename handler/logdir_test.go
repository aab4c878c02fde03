package handler

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
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
