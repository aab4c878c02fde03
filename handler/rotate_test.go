package handler

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// segmentNumbers returns the numbers of a session's rotated segments of a
// category in dir, in increasing order.
func segmentNumbers(t *testing.T, dir, session, category string) []int {
	t.Helper()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(session) + `\.(\d+)_` + regexp.QuoteMeta(category) + `\.jsonl$`)
	var out []int
	for _, name := range files(t, dir) {
		if m := re.FindStringSubmatch(name); m != nil {
			n, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// categoryPaths returns a session's files of a category in time order: the
// segments by number, then the live file.
func categoryPaths(t *testing.T, dir, session, category string) []string {
	t.Helper()
	var out []string
	for _, n := range segmentNumbers(t, dir, session, category) {
		out = append(out, filepath.Join(dir, fmt.Sprintf("%s.%03d_%s.jsonl", session, n, category)))
	}
	return append(out, filepath.Join(dir, session+"_"+category+".jsonl"))
}

// checkSequence reads paths in order and requires the "i" fields of their
// lines to be 0, 1, 2, ... n-1.
func checkSequence(t *testing.T, paths []string, n int) {
	t.Helper()
	next := 0
	for _, p := range paths {
		for _, m := range readLines(t, p) {
			require.Equal(t, float64(next), num(t, m["i"]), "%s", p)
			next++
		}
	}
	require.Equal(t, n, next)
}

func TestRotationKeepsEveryLineInOrder(t *testing.T) {
	h := newTestHandler(t, Options{MaxFileBytes: 4096, MaxLineBytes: 1024, MaxTotalBytes: -1, DefaultCategory: "c"})
	l := slog.New(h)
	const n = 500
	for i := range n {
		l.Info("m", "i", i, "pad", strings.Repeat("x", i%50))
	}
	require.NoError(t, h.Flush())

	paths := categoryPaths(t, h.Dir(), h.SessionID(), "c")
	require.Greater(t, len(paths), 5, "rotated")
	assert.Equal(t, h.Path("c"), paths[len(paths)-1])
	assert.Equal(t, filepath.Join(h.Dir(), h.SessionID()+".001_c.jsonl"), paths[0])
	for _, p := range paths {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.LessOrEqual(t, fi.Size(), int64(4096), p)
	}
	checkSequence(t, paths, n)
}

// TestResumedSessionKeepsItsSegments switches debug mode off and on twice
// (the handler closed, then made again with Resume): the numbering of the
// segments goes on from the files on disk, and no segment is overwritten.
func TestResumedSessionKeepsItsSegments(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, SessionID: "s", MaxFileBytes: 4096, MaxLineBytes: 1024, MaxTotalBytes: -1,
		DefaultCategory: "c", FlushInterval: time.Hour}
	next := 0
	for range 3 {
		h, err := New(opts)
		require.NoError(t, err)
		opts.Resume = h // the rounds after resume the first's session
		require.Equal(t, "s", h.SessionID())
		l := slog.New(h)
		for range 200 {
			l.Info("m", "i", next, "pad", strings.Repeat("x", 40))
			next++
		}
		require.NoError(t, h.CloseWith("debug_disabled"))
	}
	numbers := segmentNumbers(t, dir, "s", "c")
	require.Greater(t, len(numbers), 6)
	for i, n := range numbers {
		require.Equal(t, i+1, n, "segments numbered 1, 2, 3, ...: %v", numbers)
	}
	checkSequence(t, categoryPaths(t, dir, "s", "c"), next)
}

// TestRotationNeverReplacesAFile plants a file at the name of the next
// segment: rotation numbers past it and the file is kept.
func TestRotationNeverReplacesAFile(t *testing.T) {
	dir := t.TempDir()
	planted := filepath.Join(dir, "s.002_c.jsonl")
	h := newTestHandler(t, Options{Dir: dir, SessionID: "s", MaxFileBytes: 4096, MaxLineBytes: 4096, MaxTotalBytes: -1,
		DefaultCategory: "c", FlushInterval: time.Hour})
	l := slog.New(h)
	l.Info("m", "i", 0, "pad", strings.Repeat("x", 3000))
	l.Info("m", "i", 1, "pad", strings.Repeat("x", 3000)) // rotates to .001
	require.NoError(t, h.Flush())
	require.Equal(t, []int{1}, segmentNumbers(t, dir, "s", "c"))
	require.NoError(t, os.WriteFile(planted, []byte("{\"planted\":true}\n"), 0o640))
	l.Info("m", "i", 2, "pad", strings.Repeat("x", 3000)) // rotates past .002
	require.NoError(t, h.Flush())

	data, err := os.ReadFile(planted)
	require.NoError(t, err)
	assert.Equal(t, "{\"planted\":true}\n", string(data))
	assert.Equal(t, []int{1, 2, 3}, segmentNumbers(t, dir, "s", "c"))
	assert.Equal(t, 1.0, num(t, readLines(t, filepath.Join(dir, "s.003_c.jsonl"))[0]["i"]))
	assert.Equal(t, 2.0, num(t, only(t, h, "c")["i"]))
}
