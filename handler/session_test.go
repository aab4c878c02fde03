package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionStartAndEnd(t *testing.T) {
	dir := t.TempDir()
	h, err := New(Options{Dir: dir, Version: "v1.2.3", SessionAttrs: []slog.Attr{slog.Int("queue_bytes", 42)}})
	require.NoError(t, err)
	l := slog.New(h)
	l.Debug("a", "category", "requests")
	l.Debug("b", "category", "requests")
	l.Debug("c", "category", "errors")
	require.NoError(t, h.Close())

	lines := readLines(t, h.Path("session"))
	require.Len(t, lines, 2)
	start, end := lines[0], lines[1]
	assert.Equal(t, "session_start", start["event"])
	assert.Equal(t, "session_start", start["msg"])
	assert.Equal(t, float64(os.Getpid()), num(t, start["pid"]))
	host, _ := os.Hostname()
	assert.Equal(t, host, start["hostname"])
	assert.Equal(t, "v1.2.3", start["version"])
	assert.Equal(t, h.Dir(), start["log_directory"])
	assert.Equal(t, map[string]any{"queue_bytes": json.Number("42")}, start["config"])
	assert.Equal(t, 0.0, num(t, start["elapsed_seconds"]))

	assert.Equal(t, "session_end", end["event"])
	assert.Equal(t, 4.0, num(t, end["records_written"]), "three records and session_start")
	cats := end["categories"].(map[string]any)
	req := cats["requests"].(map[string]any)
	assert.Equal(t, 2.0, num(t, req["written"]))
	assert.Equal(t, 0.0, num(t, req["dropped"]))
	assert.Equal(t, 1.0, num(t, cats["errors"].(map[string]any)["written"]))
}

func TestSessionIDIsUTCStartTimeAndUnique(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 26, 23, 30, 0, 0, time.FixedZone("X", -5*3600)) // 04:30 UTC next day
	now := func() time.Time { return at }
	var ids []string
	for range 3 {
		h, err := New(Options{Dir: dir, now: now})
		require.NoError(t, err)
		ids = append(ids, h.SessionID())
		require.NoError(t, h.Close())
	}
	assert.Equal(t, []string{"20261127_043000", "20261127_043000_2", "20261127_043000_3"}, ids)

	h, err := New(Options{Dir: dir, SessionID: "incident-42"})
	require.NoError(t, err)
	assert.Equal(t, "incident-42", h.SessionID())
	require.NoError(t, h.Close())
	h, err = New(Options{Dir: dir, SessionID: "incident-42"})
	require.NoError(t, err)
	assert.Equal(t, "incident-42_2", h.SessionID(), "a session's files are never shared")
	require.NoError(t, h.Close())
}

func TestExistingCategoryFileMakesSessionTaken(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/s1_requests.jsonl", []byte("{}\n"), 0o600))
	h, err := New(Options{Dir: dir, SessionID: "s1"})
	require.NoError(t, err)
	defer h.Close()
	assert.Equal(t, "s1_2", h.SessionID())
}

// TestResumedSessionKeepsItsStart resumes a session an hour after it
// started: elapsed_seconds goes on counting from the session's start.
func TestResumedSessionKeepsItsStart(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	at := start
	now := func() time.Time { return at }
	h, err := New(Options{Dir: dir, DefaultCategory: "c", now: now})
	require.NoError(t, err)
	require.NoError(t, h.CloseWith("debug_disabled"))

	_, err = New(Options{EndOnly: true, now: now})
	require.ErrorContains(t, err, "EndOnly true: want false, unless Resume is set")

	at = start.Add(time.Hour)
	h2, err := New(Options{DefaultCategory: "c", Resume: h, now: now})
	require.NoError(t, err)
	assert.Equal(t, h.SessionID(), h2.SessionID())
	r := slog.NewRecord(start.Add(time.Hour+time.Second), slog.LevelInfo, "later", 0)
	require.NoError(t, h2.Handle(context.Background(), r))
	require.NoError(t, h2.Close())

	lines := readLines(t, h.Path("session"))
	require.Len(t, lines, 4)
	assert.Equal(t, "debug_enabled", lines[2]["event"])
	assert.Equal(t, "2026-11-26T11:00:00.000000000Z", lines[2]["timestamp"], "debug_enabled is when debug mode came back")
	assert.Equal(t, 3600.0, num(t, lines[2]["elapsed_seconds"]))
	c := readLines(t, h.Path("c"))
	require.Len(t, c, 1)
	assert.Equal(t, 3601.0, num(t, c[0]["elapsed_seconds"]))
}

func TestSessionStartMayBeEarlierNotLater(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	_, err := New(Options{Dir: t.TempDir(), SessionStart: now.Add(time.Second), now: clock})
	require.ErrorContains(t, err, "SessionStart")

	h, err := New(Options{Dir: t.TempDir(), SessionStart: now.Add(-time.Minute), now: clock})
	require.NoError(t, err)
	require.NoError(t, h.Close())
	assert.Equal(t, "20261126_095900", h.SessionID(), "named after its start")
	lines := readLines(t, h.Path("session"))
	assert.Equal(t, "2026-11-26T09:59:00.000000000Z", lines[0]["timestamp"])
	assert.Equal(t, 0.0, num(t, lines[0]["elapsed_seconds"]))
}

// TestEndOnlyEndsAClosedSession: a session whose handler was closed
// with debug_disabled gets session_end, with the session's totals.
func TestEndOnlyEndsAClosedSession(t *testing.T) {
	dir := t.TempDir()
	h, err := New(Options{Dir: dir, DefaultCategory: "c"})
	require.NoError(t, err)
	slog.New(h).Info("one")
	slog.New(h).Info("two")
	require.NoError(t, h.CloseWith("debug_disabled"))

	ender, err := New(Options{Resume: h, EndOnly: true})
	require.NoError(t, err)
	assert.Equal(t, uint64(3), ender.Stats().Written, "the session's counts")
	require.NoError(t, ender.Close())
	lines := readLines(t, h.Path("session"))
	require.Len(t, lines, 3)
	assert.Equal(t, "debug_disabled", lines[1]["event"])
	end := lines[2]
	assert.Equal(t, "session_end", end["event"])
	assert.Equal(t, 3.0, num(t, end["records_written"]), "session_start and the two records")
	assert.Equal(t, 2.0, num(t, end["categories"].(map[string]any)["c"].(map[string]any)["written"]))
	assert.Len(t, readLines(t, h.Path("c")), 2)
}
