package demoproxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrchLogWritesPythonsFormat compares a line with one of the real
// orchestrator's (shared/reference/orchestrator-logs), byte for byte.
func TestOrchLogWritesPythonsFormat(t *testing.T) {
	dir := t.TempDir()
	times := []time.Time{
		time.Date(2026, 11, 26, 10, 17, 15, 684979000, time.UTC), // session start
		time.Date(2026, 11, 26, 10, 17, 15, 684979000, time.UTC),
		time.Date(2026, 11, 26, 10, 17, 16, 185928000, time.UTC),
		time.Date(2026, 11, 26, 10, 17, 17, 0, time.UTC),
	}
	now := func() time.Time { t := times[0]; times = times[1:]; return t }
	l, err := newOrchLog(dir, now)
	require.NoError(t, err)
	l.log("provisioning", kv{"operation", "start_container_success"}, kv{"container_id", "3f2a9c1be0d4"}, kv{"duration_ms", float(210)},
		kv{"success", true}, kv{"error", nil})
	l.log("provisioning", kv{"operation", "x"}, kv{"labels", []kv{{"acexy", "true"}}}, kv{"text", "é\"\n"}, kv{"ms", float(0.62)})
	require.NoError(t, l.close())
	b, err := os.ReadFile(filepath.Join(dir, "20261126_101715_provisioning.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, `{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:15.684979+00:00", "elapsed_seconds": 0.0, "event": "session_start", "log_directory": "`+dir+`"}`,
		readFirst(t, filepath.Join(dir, "20261126_101715_session.jsonl")))
	assert.Equal(t, `{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:16.185928+00:00", "elapsed_seconds": 0.501, "operation": "start_container_success", "container_id": "3f2a9c1be0d4", "duration_ms": 210.0, "success": true, "error": null}`, lines[0])
	assert.Equal(t, `{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:17+00:00", "elapsed_seconds": 1.315, "operation": "x", "labels": {"acexy": "true"}, "text": "\u00e9\"\n", "ms": 0.62}`, lines[1])
}

func readFirst(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.SplitN(string(b), "\n", 2)[0]
}
