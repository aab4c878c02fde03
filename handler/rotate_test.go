package handler

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRotationKeepsEveryLineInOrder(t *testing.T) {
	h := newTestHandler(t, Options{MaxFileBytes: 4096, MaxLineBytes: 1024, MaxTotalBytes: -1, DefaultCategory: "c"})
	l := slog.New(h)
	const n = 500
	for i := range n {
		l.Info("m", "i", i, "pad", strings.Repeat("x", i%50))
	}
	require.NoError(t, h.Flush())

	paths, err := filepath.Glob(filepath.Join(h.Dir(), "*_c.jsonl"))
	require.NoError(t, err)
	sort.Strings(paths) // segments sort before the live file
	require.Greater(t, len(paths), 5, "rotated")
	assert.Equal(t, h.Path("c"), paths[len(paths)-1])
	assert.Equal(t, filepath.Join(h.Dir(), h.SessionID()+".001_c.jsonl"), paths[0])
	next := 0
	for _, p := range paths {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.LessOrEqual(t, fi.Size(), int64(4096), p)
		for _, m := range readLines(t, p) {
			require.Equal(t, float64(next), num(t, m["i"]))
			next++
		}
	}
	assert.Equal(t, n, next)
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

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	sort.Strings(m)
	return m
}

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

func TestPartialLinesOfEarlierSessionsAreRepaired(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "20200101_000000_requests.jsonl")
	require.NoError(t, os.WriteFile(p, []byte("{\"a\":1}\n{\"a\":2}\n{\"a\":"), 0o640))
	whole := filepath.Join(dir, "20200101_000000_streams.jsonl")
	require.NoError(t, os.WriteFile(whole, []byte("{\"a\":1}\n"), 0o640))
	h := newTestHandler(t, Options{Dir: dir})
	assert.Len(t, readLines(t, p), 2)
	assert.Len(t, readLines(t, whole), 1)
	require.NoError(t, h.Close())
	assert.Equal(t, 1.0, num(t, readLines(t, h.Path("session"))[0]["repaired_files"]))
}

func TestSyncModeWritesBeforeReturning(t *testing.T) {
	h := newTestHandler(t, Options{Sync: true, FlushInterval: time.Hour, DefaultCategory: "c"})
	l := slog.New(h)
	for i := range 20 {
		l.Info("m", "i", i)
		data, err := os.ReadFile(h.Path("c"))
		require.NoError(t, err)
		require.Equal(t, i+1, strings.Count(string(data), "\n"), "record %d is in the file when Info returns", i)
	}
}

// TestDiskFull puts the directory on a small tmpfs: writes fail, no file
// keeps a partial line, the failure is reported once per interval, and
// writing resumes when space returns.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	filler := filepath.Join(dir, "filler")
	reports := make(chan string, 10) // OnError runs on the reporter goroutine
	h, err := New(Options{Dir: dir, DefaultCategory: "c", MaxTotalBytes: -1, ErrorInterval: time.Hour,
		OnError: func(err error, errs, lost uint64) { reports <- fmt.Sprint(err) }})
	require.NoError(t, err)
	defer h.Close()
	// Fill the disk but for a little room.
	require.NoError(t, os.WriteFile(filler, make([]byte, 200<<10), 0o600))
	l := slog.New(h)
	for i := range 2000 {
		l.Info("m", "i", i, "pad", strings.Repeat("z", 100))
		if i%100 == 99 {
			h.Flush() // errors expected
		}
	}
	h.Flush()
	st := h.Stats()
	require.Positive(t, st.Failed, "the disk filled up")
	require.Positive(t, st.Written)
	assert.ErrorContains(t, st.LastError, "no space left")
	assert.Contains(t, <-reports, "no space left")
	assert.Equal(t, uint64(1), h.s.rep.reportsHanded(), "reported once per interval")
	lines := readLines(t, h.Path("c")) // every line decodes: none was cut
	assert.Equal(t, int(st.Categories["c"].Written), len(lines))

	require.NoError(t, os.Remove(filler)) // space returns
	l.Info("after", "i", -1)
	require.NoError(t, h.Flush())
	lines = readLines(t, h.Path("c"))
	assert.Equal(t, "after", lines[len(lines)-1]["msg"])
}

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
