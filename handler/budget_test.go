package handler

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshot maps the names of dir's files to their contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range files(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		out[name] = string(data)
	}
	return out
}

// TestDiskBudgetLeavesAnotherLiveSessionAlone runs two live sessions in one
// directory, "proxy" and "proxy_2" (what a second process started in the
// same second gets): the first one's tight budget deletes its own segments,
// never a file of the other.
func TestDiskBudgetLeavesAnotherLiveSessionAlone(t *testing.T) {
	dir := t.TempDir()
	tight := Options{Dir: dir, SessionID: "proxy", MaxFileBytes: 4096, MaxLineBytes: 1024, MaxTotalBytes: 8192,
		MaxSessions: -1, DefaultCategory: "requests", FlushInterval: time.Hour}
	h := newTestHandler(t, tight)
	require.Equal(t, "proxy", h.SessionID())

	loose := tight
	loose.MaxTotalBytes = -1
	other := newTestHandler(t, loose)
	require.Equal(t, "proxy_2", other.SessionID(), "the session ID was taken: the second one gets _2")
	lo := slog.New(other)
	for i := range 200 {
		lo.Info("other", "i", i, "pad", strings.Repeat("o", 40))
	}
	lo.Info("other", "category", "engine_selection")
	require.NoError(t, other.Flush())
	before := snapshot(t, dir)
	var theirs []string
	for name := range before {
		if strings.HasPrefix(name, "proxy_2") {
			theirs = append(theirs, name)
		}
	}
	require.Greater(t, len(theirs), 4, "the other session rotated: %v", theirs)

	l := slog.New(h)
	for i := range 400 {
		l.Info("mine", "i", i, "pad", strings.Repeat("m", 40))
	}
	require.NoError(t, h.Flush())
	require.Positive(t, h.Stats().FilesDeleted, "the budget deleted this session's own segments")
	after := snapshot(t, dir)
	for _, name := range theirs {
		assert.True(t, before[name] == after[name], "%s of the live session proxy_2 is kept as it was (%d bytes, now %d)",
			name, len(before[name]), len(after[name]))
	}
	var mine int64
	for name, data := range after {
		if strings.HasPrefix(name, "proxy.") || strings.HasPrefix(name, "proxy_") && !strings.HasPrefix(name, "proxy_2") {
			mine += int64(len(data))
		}
	}
	assert.LessOrEqual(t, mine, int64(8192+4096), "this session is within its budget")
}

// TestDiskBudgetDeletesOldestSegmentsPast999 resumes a session whose
// earlier run rotated up to .999: the budget deletes .997 to .999 before
// .1000 and later, which sort before them as strings.
func TestDiskBudgetDeletesOldestSegmentsPast999(t *testing.T) {
	dir := t.TempDir()
	first, err := New(Options{Dir: dir, SessionID: "s"})
	require.NoError(t, err)
	require.NoError(t, first.CloseWith("debug_disabled"))
	for n := 997; n <= 999; n++ {
		line := fmt.Sprintf(`{"session_id":"s","segment":%d}`+"\n", n)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("s.%03d_c.jsonl", n)), []byte(strings.Repeat(line, 3000/len(line))), 0o640))
	}
	h := newTestHandler(t, Options{Resume: first, MaxFileBytes: 4096, MaxLineBytes: 1024,
		MaxTotalBytes: 12288, MaxSessions: -1, DefaultCategory: "c", FlushInterval: time.Hour})
	l := slog.New(h)
	for i := range 400 {
		l.Info("m", "i", i, "pad", strings.Repeat("y", 40))
	}
	require.NoError(t, h.Flush())
	require.Positive(t, h.Stats().FilesDeleted)

	numbers := segmentNumbers(t, dir, "s", "c")
	require.NotEmpty(t, numbers)
	last := numbers[len(numbers)-1]
	require.Greater(t, last, 1000, "numbering went on from .999")
	for i, n := range numbers {
		assert.Equal(t, last-len(numbers)+1+i, n, "the newest segments are kept, the oldest deleted: %v", numbers)
	}
}

func TestDiskBudgetDeletesOldestSessionsFirst(t *testing.T) {
	dir := t.TempDir()
	oldest := oldSession(t, dir, "20200101_000000", "requests", 20000)
	older := oldSession(t, dir, "20200102_000000", "requests", 20000)
	recent := oldSession(t, dir, "20200103_000000", "requests", 2000)
	unrelated := filepath.Join(dir, "notes.jsonl")
	require.NoError(t, os.WriteFile(unrelated, []byte("{}\n"), 0o600))

	h := newTestHandler(t, Options{Dir: dir, MaxFileBytes: 4096, MaxLineBytes: 1024, MaxTotalBytes: 30000, MaxSessions: -1, DefaultCategory: "c"})
	assert.NoFileExists(t, oldest, "deleted at start: the directory was over budget")
	assert.FileExists(t, older)

	l := slog.New(h)
	for i := range 400 {
		l.Info("m", "i", i, "pad", strings.Repeat("y", 40))
	}
	require.NoError(t, h.Flush())
	assert.NoFileExists(t, older)
	assert.FileExists(t, unrelated, "files of another naming are not ours")
	assert.FileExists(t, h.Path("c"), "the live file stays")
	assert.FileExists(t, h.Path("session"))

	var total int64
	for _, p := range mustGlob(t, filepath.Join(dir, "2*.jsonl")) {
		fi, _ := os.Stat(p)
		total += fi.Size()
	}
	assert.LessOrEqual(t, total, int64(30000+4096), "within the budget (give or take the live file's last batch)")
	assert.Positive(t, h.Stats().FilesDeleted)
	_ = recent
}

func TestSessionsKept(t *testing.T) {
	dir := t.TempDir()
	for d := 1; d <= 5; d++ {
		oldSession(t, dir, fmt.Sprintf("2020010%d_000000", d), "requests", 100)
		oldSession(t, dir, fmt.Sprintf("2020010%d_000000", d), "session", 100)
	}
	h := newTestHandler(t, Options{Dir: dir, MaxSessions: 3})
	var sessions []string
	for _, p := range mustGlob(t, filepath.Join(dir, "*_session.jsonl")) {
		sessions = append(sessions, strings.TrimSuffix(filepath.Base(p), "_session.jsonl"))
	}
	assert.Equal(t, []string{"20200104_000000", "20200105_000000", h.SessionID()}, sessions)
	assert.Len(t, mustGlob(t, filepath.Join(dir, "*_requests.jsonl")), 2)
}

// oldSession writes a fake earlier session's file of size bytes.
func oldSession(t *testing.T, dir, id, category string, size int) string {
	t.Helper()
	line := `{"session_id":"` + id + `"}` + "\n"
	data := strings.Repeat(line, size/len(line)+1)[:size/len(line)*len(line)]
	p := filepath.Join(dir, id+"_"+category+".jsonl")
	require.NoError(t, os.WriteFile(p, []byte(data), 0o640))
	return p
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	sort.Strings(m)
	return m
}

// TestDeletionOrder: other sessions first, by start time (_2 before _10);
// within a session, segments by modification time across categories but
// always by number within one, then live files, the session file last;
// a session's trace snapshots after all its other files.
func TestDeletionOrder(t *testing.T) {
	s := &sink{sessionID: "20200105_000000"}
	at := func(sec int) time.Time { return time.Unix(int64(sec), 0) }
	f := func(session string, segment int, category string, mtime int) diskFile {
		return diskFile{fileName: fileName{session: session, segment: segment, category: category}, mtime: at(mtime)}
	}
	files := []diskFile{
		f("20200105_000000", 0, "requests", 100),
		f("20200105_000000", 1000, "requests", 60),
		f("20200105_000000", 999, "requests", 70), // touched: newer than .1000, still older
		f("20200105_000000", 2, "streams", 65),
		f("20200105_000000", 1, "streams", 50),
		f("20200101_000000_10", 0, "session", 1),
		f("20200101_000000_10", 0, "requests", 2),
		f("20200101_000000_2", 0, "requests", 3),
		f("20200101_000000", 0, "session", 1),
		f("20200101_000000", 1, "requests", 9),
		{fileName: fileName{session: "20200105_000000", segment: 1, trace: true}, mtime: at(10)}, // the oldest
	}
	s.orderForDeletion(files)
	var got []string
	for _, d := range files {
		got = append(got, fmt.Sprintf("%s.%d_%s", d.session, d.segment, d.category))
	}
	assert.Equal(t, []string{
		"20200101_000000.1_requests",
		"20200101_000000.0_session",
		"20200101_000000_2.0_requests",
		"20200101_000000_10.0_requests",
		"20200101_000000_10.0_session",
		"20200105_000000.1_streams",
		"20200105_000000.999_requests",
		"20200105_000000.2_streams",
		"20200105_000000.1000_requests",
		"20200105_000000.0_requests",
		"20200105_000000.1_", // the snapshot a stress line names, after the routine files
	}, got)
}
