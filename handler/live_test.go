package handler

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
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

// TestALiveSessionWhoseSessionFileWasDeletedKeepsItsFiles is break 3 of
// the second trust round: an age-based cleanup removed a live session's
// _session.jsonl (written only at start), and another session's disk
// budget then deleted every file of the live one as left over.
func TestALiveSessionWhoseSessionFileWasDeletedKeepsItsFiles(t *testing.T) {
	dir := t.TempDir()
	live := newTestHandler(t, Options{Dir: dir, SessionID: "20200101_000000", DefaultCategory: "requests", FlushInterval: time.Hour})
	l := slog.New(live)
	for i := range 2000 {
		l.Info("kept", "i", i)
	}
	require.NoError(t, live.Flush())
	require.NoError(t, os.Remove(filepath.Join(dir, "20200101_000000_session.jsonl")))

	// A newer session keeping one session only: the live one is not its to delete.
	other := newTestHandler(t, Options{Dir: dir, SessionID: "20200102_000000", MaxSessions: 1, FlushInterval: time.Hour})
	require.NoError(t, other.Close())
	require.Zero(t, other.Stats().FilesDeleted)

	for i := 2000; i < 2010; i++ {
		l.Info("kept", "i", i)
	}
	require.NoError(t, live.Close())
	lines := readLines(t, live.Path("requests"))
	require.Len(t, lines, 2010)
	for i, m := range lines {
		assert.EqualValues(t, json.Number(strconv.Itoa(i)), m["i"])
	}
	assert.FileExists(t, live.Path("session"), "recreated by its owner at the next check")
}

// TestAPausedSessionStaysLiveToOthers: a session paused with CloseWith
// (slogdebug's SetDebug(false)) is not another process's to delete or
// repair, and its owner resumes it; after Close it is.
func TestAPausedSessionStaysLiveToOthers(t *testing.T) {
	dir := t.TempDir()
	paused := newTestHandler(t, Options{Dir: dir, SessionID: "20200101_000000", DefaultCategory: "requests", FlushInterval: time.Hour})
	slog.New(paused).Info("before the pause")
	require.NoError(t, paused.CloseWith("debug_disabled"))

	other := newTestHandler(t, Options{Dir: dir, SessionID: "20200102_000000", MaxSessions: 1, FlushInterval: time.Hour})
	require.NoError(t, other.Close())
	require.Zero(t, other.Stats().FilesDeleted, "the paused session is live")
	require.FileExists(t, paused.Path("requests"))

	resumed := newTestHandler(t, Options{Dir: dir, SessionID: "20200101_000000", Resume: paused, DefaultCategory: "requests", FlushInterval: time.Hour})
	slog.New(resumed).Info("after the pause")
	require.NoError(t, resumed.Close())
	lines := readLines(t, resumed.Path("requests"))
	require.Len(t, lines, 2)
	assert.Equal(t, "after the pause", lines[1]["msg"])
	events := []any{}
	for _, m := range readLines(t, resumed.Path("session")) {
		events = append(events, m["event"])
	}
	assert.Equal(t, []any{"session_start", "debug_disabled", "debug_enabled", "session_end"}, events)

	last := newTestHandler(t, Options{Dir: dir, SessionID: "20200103_000000", MaxSessions: 1, FlushInterval: time.Hour})
	require.NoError(t, last.Close())
	assert.NoFileExists(t, resumed.Path("requests"), "ended: the budget may take it")
}

// TestClosingAPausedSessionLetsItGo: Close after CloseWith releases the
// session's lock, so it can be resumed by another handler and counts dead.
func TestClosingAPausedSessionLetsItGo(t *testing.T) {
	dir := t.TempDir()
	h := newTestHandler(t, Options{Dir: dir, SessionID: "s", FlushInterval: time.Hour})
	require.NoError(t, h.CloseWith("debug_disabled"))
	require.NoError(t, h.Close())
	f, err := os.Open(h.Path("session"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, tryLock(f, true), "nobody holds the session file any more")
}
