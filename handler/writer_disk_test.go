package handler

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
