package handler

import (
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
