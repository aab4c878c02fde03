package handler

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const crashEnv = "DEBUGMODE_CRASH_CHILD"

// TestCrashChild is the process the crash tests kill: it logs as fast as
// it can from one goroutine. In async mode it prints "written N" once the
// writer has written its first N records (N > 20000, from Stats: the write
// calls returned, so the lines are in the kernel) and logs on; in sync mode
// it prints every acknowledged sequence number.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("run by TestKillNine")
	}
	mode, dir, _ := strings.Cut(spec, ":")
	// BlockWhenFull: nothing is dropped, so the first N written are 0..N-1.
	h, err := New(Options{Dir: dir, SessionID: "20260101_000000", DefaultCategory: "c", FlushInterval: 50 * time.Millisecond,
		Sync: mode == "sync", BlockWhenFull: true})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	l := slog.New(h)
	out := bufio.NewWriter(os.Stdout)
	reported := false
	for i := 0; ; i++ {
		l.Info("m", "i", i, "pad", strings.Repeat("p", i%20))
		switch {
		case mode == "sync":
			fmt.Fprintf(out, "ack %d\n", i)
			out.Flush()
		case !reported && i >= 20000 && i%100 == 0:
			if n := h.Stats().Categories["c"].Written; n > 20000 {
				fmt.Fprintf(out, "written %d\n", n)
				out.Flush()
				reported = true
			}
		}
	}
}

// crash starts the child, waits for what it printed to satisfy done, kills
// it with SIGKILL at once (it is still logging flat out), and returns the
// line that satisfied done and the last line it printed.
func crash(t *testing.T, mode, dir string, done func(string) bool) (at, last string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashEnv+"="+mode+":"+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		last = sc.Text()
		if done(last) {
			at = last
			break
		}
	}
	require.NotEmpty(t, at, "the child ended before it got there (last line %q)", last)
	require.NoError(t, cmd.Process.Kill())
	// Acknowledgements printed before the kill are still in the pipe.
	for sc.Scan() {
		last = sc.Text()
	}
	io.Copy(io.Discard, stdout)
	cmd.Wait()
	return at, last
}

// seqs reads every segment of category c of the crashed session.
func seqs(t *testing.T, dir string) map[int]bool {
	t.Helper()
	got := map[int]bool{}
	for _, path := range mustGlob(t, filepath.Join(dir, "20260101_000000*_c.jsonl")) {
		for _, m := range readLines(t, path) {
			got[int(num(t, m["i"]))] = true
		}
	}
	return got
}

// TestKillNine kills a process logging at full speed: after the repair the
// next session does at start, every line of every file decodes, and
// nothing the writer had written before the kill is lost. In sync mode
// nothing acknowledged is lost.
func TestKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Run("async", func(t *testing.T) {
		dir := t.TempDir()
		at, _ := crash(t, "async", dir, func(s string) bool { return strings.HasPrefix(s, "written ") })
		written, err := strconv.Atoi(strings.TrimPrefix(at, "written "))
		require.NoError(t, err, at)
		for _, path := range mustGlob(t, filepath.Join(dir, "20260101_000000*_c.jsonl")) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			// Before any repair, only the last line can be cut.
			lines := strings.Split(string(data), "\n")
			for i, l := range lines[:len(lines)-1] {
				require.True(t, json.Valid([]byte(l)), "%s:%d: %q", path, i+1, l)
			}
		}

		h, err := New(Options{Dir: dir, DefaultCategory: "c"}) // the next session repairs
		require.NoError(t, err)
		require.NoError(t, h.Close())
		got := seqs(t, dir) // readLines decodes every line
		for i := range written {
			require.True(t, got[i], "record %d was written before the kill", i)
		}
		t.Logf("async: %d records written before the kill was sent, %d survived it", written, len(got))
	})
	t.Run("sync", func(t *testing.T) {
		dir := t.TempDir()
		_, last := crash(t, "sync", dir, func(s string) bool { return s == "ack 2000" })
		acked, err := strconv.Atoi(strings.TrimPrefix(last, "ack "))
		require.NoError(t, err, last)
		h, err := New(Options{Dir: dir, DefaultCategory: "c"})
		require.NoError(t, err)
		require.NoError(t, h.Close())
		got := seqs(t, dir)
		for i := 0; i <= acked; i++ {
			require.True(t, got[i], "acknowledged record %d lost", i)
		}
		t.Logf("sync: %d acknowledged, %d in the file", acked+1, len(got))
	})
}
