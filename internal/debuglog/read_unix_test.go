//go:build unix

package debuglog

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnlyRegularFilesAreRead: a FIFO, a link to /dev/zero, a directory, a
// symlink loop, a dangling link, all named *.jsonl, are skipped with a
// warning each, and the regular files are still read.
func TestOnlyRegularFilesAreRead(t *testing.T) {
	dir := dirWithGoodFile(t)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "20261126_101715_fifo.jsonl"), 0o644))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "20261126_101715_zero.jsonl")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "20261126_101715_dir.jsonl"), 0o755))
	require.NoError(t, os.Symlink("20261126_101715_loopb.jsonl", filepath.Join(dir, "20261126_101715_loopa.jsonl")))
	require.NoError(t, os.Symlink("20261126_101715_loopa.jsonl", filepath.Join(dir, "20261126_101715_loopb.jsonl")))
	require.NoError(t, os.Symlink("nowhere.jsonl", filepath.Join(dir, "20261126_101715_dangling.jsonl")))

	for _, cmd := range [][]string{{"summary", dir}, {"timeline", dir}, {"report", dir, "-o", filepath.Join(t.TempDir(), "r.html")},
		{"correlate", "--proxy", dir, "--orch", dir}} {
		code, out, errOut := debuglogBounded(t, cmd...)
		require.Equal(t, 0, code, "%v: %s", cmd, errOut)
		assert.Regexp(t, `_fifo\.jsonl: not a regular file \(named pipe\); skipped`, errOut, cmd)
		assert.Regexp(t, `_zero\.jsonl: not a regular file \(device\); skipped`, errOut, cmd)
		assert.Regexp(t, `_dir\.jsonl: not a regular file \(directory\); skipped`, errOut, cmd)
		assert.Regexp(t, `_loopa\.jsonl: .*too many levels of symbolic links; skipped`, errOut, cmd)
		assert.Regexp(t, `_dangling\.jsonl: .*no such file or directory; skipped`, errOut, cmd)
		if cmd[0] == "summary" {
			assert.Regexp(t, `vpn +2 `, out, "the regular file is read")
		}
	}

	// Named on the command line, a FIFO is skipped the same way.
	code, _, errOut := debuglogBounded(t, "summary", filepath.Join(dir, "20261126_101715_fifo.jsonl"), filepath.Join(dir, "20261126_101715_vpn.jsonl"))
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "not a regular file (named pipe)")
}

// TestBlockingFilesNeverHangAndSignalsStop: a FIFO named like a category
// file, and on Linux a link named like one to a file of procfs (a regular
// file there that reading can block: /proc/kmsg; the test links a harmless
// one), are skipped with a warning by every command, --follow included,
// which then stops on SIGTERM and on SIGINT; and a command whose read
// blocks (a child whose files are pipes nobody writes) stops on a signal,
// saying it was interrupted.
func TestBlockingFilesNeverHangAndSignalsStop(t *testing.T) {
	dir := dirWithGoodFile(t)
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "20261126_101715_fifo.jsonl"), 0o644))
	warnings := []string{`_fifo\.jsonl: not a regular file \(named pipe\)`}
	if runtime.GOOS == "linux" {
		require.NoError(t, os.Symlink("/proc/self/status", filepath.Join(dir, "20261126_101715_requests.jsonl")))
		warnings = append(warnings, `_requests\.jsonl: a file of procfs`)
	}
	for _, cmd := range [][]string{{"summary", dir}, {"timeline", dir}, {"report", dir, "-o", filepath.Join(t.TempDir(), "r.html")},
		{"correlate", "--proxy", dir, "--orch", dir}, {"request", "r1", dir}} {
		_, _, errOut := debuglogBounded(t, cmd...)
		for _, w := range warnings {
			assert.Regexp(t, w, errOut, cmd)
		}
	}

	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		c := startChild(t, "", "timeline", "--follow", "--interval", "1ms", dir)
		c.waitFor(t, append([]string{`following 1 directory`}, warnings...)...)
		require.NoError(t, c.cmd.Process.Signal(sig))
		code, out := c.wait(t)
		assert.Equal(t, 0, code, "--follow ends on %v: %s", sig, out)

		c = startChild(t, "blocking-read", "summary", dir)
		c.waitFor(t, `reading a file that never answers`)
		require.NoError(t, c.cmd.Process.Signal(sig))
		code, out = c.wait(t)
		assert.Equal(t, 130, code, "%v: %s", sig, out)
		assert.Contains(t, out, "debuglog: interrupted")
	}
}

// child is debuglog run in a child process: the test binary itself, which
// TestMain turns into debuglog when DEBUGLOG_CHILD is set.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	out   strings.Builder
}

func startChild(t *testing.T, mode string, args ...string) *child {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	c := &child{cmd: exec.Command(os.Args[0], args...), lines: make(chan string, 1000)}
	c.cmd.Env = append(os.Environ(), "DEBUGLOG_CHILD=1", "DEBUGLOG_CHILD_MODE="+mode)
	c.cmd.Stdout, c.cmd.Stderr = w, w
	require.NoError(t, c.cmd.Start())
	w.Close()
	go func() {
		defer close(c.lines)
		defer r.Close()
		s := bufio.NewScanner(r)
		for s.Scan() {
			c.lines <- s.Text()
		}
	}()
	return c
}

// waitFor reads the child's output until every pattern has been seen.
func (c *child) waitFor(t *testing.T, patterns ...string) {
	t.Helper()
	hang := time.After(60 * time.Second) // a hang, not a slow machine
	for {
		all := true
		for _, p := range patterns {
			all = all && regexp.MustCompile(p).MatchString(c.out.String())
		}
		if all {
			return
		}
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("the child ended before printing %q: %s", patterns, c.out.String())
			}
			c.out.WriteString(l + "\n")
		case <-hang:
			c.cmd.Process.Kill()
			t.Fatalf("the child did not print %q: %s", patterns, c.out.String())
		}
	}
}

// wait returns the child's exit code and output once it has ended; it
// kills a child that hangs.
func (c *child) wait(t *testing.T) (int, string) {
	t.Helper()
	hang := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if ok {
				c.out.WriteString(l + "\n")
				continue
			}
			err := c.cmd.Wait()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode(), c.out.String()
			}
			require.NoError(t, err)
			return 0, c.out.String()
		case <-hang:
			c.cmd.Process.Kill()
			t.Fatalf("the child did not stop: %s", c.out.String())
		}
	}
}
