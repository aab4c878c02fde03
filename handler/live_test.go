package handler

import (
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAnotherProcesssLiveSessionIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	other, err := New(Options{Dir: dir, SessionID: "20200101_000000", DefaultCategory: "c"})
	require.NoError(t, err)
	defer other.Close()
	// Its file, caught in the middle of a write.
	require.NoError(t, os.WriteFile(other.Path("c"), []byte("{\"a\":1}\n{\"a\":"), 0o640))
	h := newTestHandler(t, Options{Dir: dir, MaxSessions: 1})
	data, err := os.ReadFile(other.Path("c"))
	require.NoError(t, err)
	assert.Equal(t, "{\"a\":1}\n{\"a\":", string(data), "not repaired: it is live")
	assert.FileExists(t, other.Path("session"), "not deleted by the sessions kept: it is live")
	require.NoError(t, h.Close())
}

// TestSessionStaysLiveAcrossRotationAndRecreation rotates a session's own
// session file, then deletes its directory underneath: through both, the
// session stays live, and a newer session that keeps only itself
// (MaxSessions 1) deletes none of its files.
func TestSessionStaysLiveAcrossRotationAndRecreation(t *testing.T) {
	dir := t.TempDir()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	h := newTestHandler(t, Options{Dir: dir, now: func() time.Time { return old }, MaxFileBytes: 2048, MaxLineBytes: 1024,
		MaxTotalBytes: -1, MaxSessions: -1, FlushInterval: time.Hour})
	require.Equal(t, "20200101_000000", h.SessionID())
	l := slog.New(h).With("category", "session")
	for i := range 50 {
		l.Info("note", "i", i, "pad", strings.Repeat("s", 60))
	}
	require.NoError(t, h.Flush())
	require.NotEmpty(t, segmentNumbers(t, dir, h.SessionID(), "session"), "the session file rotated")

	keepOnlyItself := func() {
		t.Helper()
		before := snapshot(t, dir)
		newer, err := New(Options{Dir: dir, MaxSessions: 1})
		require.NoError(t, err)
		require.NoError(t, newer.Close())
		after := snapshot(t, dir)
		for name, data := range before {
			assert.True(t, data == after[name], "%s of the live session is kept (%d bytes, now %d)", name, len(data), len(after[name]))
		}
	}
	keepOnlyItself()

	require.NoError(t, os.RemoveAll(dir)) // a cleanup cron
	l.Info("after")
	require.NoError(t, h.Flush())
	require.Positive(t, h.Stats().FilesRecreated)
	keepOnlyItself()
}

// TestResumeRefusesASessionLiveElsewhere: two handlers never share a
// session's files, even when asked to resume it.
func TestResumeRefusesASessionLiveElsewhere(t *testing.T) {
	dir := t.TempDir()
	h := newTestHandler(t, Options{Dir: dir, SessionID: "proxy"})
	_, err := New(Options{Resume: h})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use")
	require.NoError(t, h.Close())
	again, err := New(Options{Resume: h})
	require.NoError(t, err, "closed: it can be resumed")
	require.NoError(t, again.Close())
}

// TestSessionGuard: a session is absent without a session file, live while
// its owner holds the lock, and dead otherwise; a dead session is held by
// the guard until release, and its owner waits for that instead of taking
// it for another owner's.
func TestSessionGuard(t *testing.T) {
	dir := t.TempDir()
	ld, err := openLogDir(dir, 0o750)
	require.NoError(t, err)
	defer ld.close()
	guard := newSessionGuard(ld)
	assert.Equal(t, absent, guard.check("s"))

	h := newTestHandler(t, Options{Dir: dir, SessionID: "s"})
	guard.release()
	assert.Equal(t, live, guard.check("s"))
	require.NoError(t, h.Close())
	guard.release()
	assert.Equal(t, dead, guard.check("s"))

	f, _, err := ld.openFile(sessionFileName("s"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	defer f.Close()
	err = lockOwner(f, 0)
	require.Error(t, err, "a guard holds it")
	assert.Contains(t, err.Error(), "stayed locked by other handlers", "not taken for another owner")
	guard.release()
	require.NoError(t, lockOwner(f, 0))

	other := newSessionGuard(ld)
	defer other.release()
	assert.Equal(t, live, other.check("s"))
}
