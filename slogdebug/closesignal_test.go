//go:build unix

package slogdebug

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closeOnSignalChildEnv names the log directory of the child process of
// TestCloseOnSignalKeepsTheExitBehaviour.
const closeOnSignalChildEnv = "SLOGDEBUG_CLOSE_ON_SIGNAL_CHILD_DIR"

// TestCloseOnSignalChild is the program the test runs in a subprocess: the
// README's one line, a record, and then it waits, as a server does, until
// a signal ends it.
func TestCloseOnSignalChild(t *testing.T) {
	dir := os.Getenv(closeOnSignalChildEnv)
	if dir == "" {
		t.Skip("run by TestCloseOnSignalKeepsTheExitBehaviour")
	}
	logger, err := New(Config{Enabled: true, Dir: dir}, os.Stderr)
	if err != nil {
		panic(err)
	}
	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()
	logger.LogRequest(context.Background(), "GET", "/ace/getstream", time.Millisecond, 200, "before-the-signal")
	fmt.Println("ready")
	// Until killed; each line read logs a record, and says so.
	in := bufio.NewReader(os.Stdin)
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			return // stdin closed: the test is over
		}
		logger.LogRequest(context.Background(), "GET", "/ace/getstream", time.Millisecond, 200, strings.TrimSpace(line))
		if err := logger.Flush(); err != nil {
			fmt.Println("flush:", err)
		}
		fmt.Println("logged")
	}
}

// startCloseOnSignalChild runs TestCloseOnSignalChild in a subprocess
// logging into dir, once it is ready: its stdin (a line logs a record) and
// its stdout (it answers "logged"). With ignoreSIGINT, a shell starts it
// with SIGINT ignored, as a shell's "&" does (the test process itself must
// not ignore it: os/signal.Reset does not undo Ignore for the children it
// starts later). A failing test never leaves it behind.
func startCloseOnSignalChild(t *testing.T, dir string, ignoreSIGINT bool) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	args := []string{os.Args[0], "-test.run=^TestCloseOnSignalChild$", "-test.count=1"}
	if ignoreSIGINT {
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skipf("no shell to start the child with SIGINT ignored: %v", err)
		}
		args = append([]string{sh, "-c", `trap "" INT; exec "$@"`, "sh"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), closeOnSignalChildEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = stdin.Close()
	})
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return cmd, stdin, out
}

// waitSignaled waits for the child sent a signal that ends it. A child
// that outlives it by a minute fails the test (and is killed) instead of
// hanging it: the bound is never reached when it works.
func waitSignaled(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("the child outlived the signal that should have ended it")
		return nil
	}
}

func TestCloseOnSignalKeepsTheExitBehaviour(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, _, _ := startCloseOnSignalChild(t, dir, false)
			require.NoError(t, cmd.Process.Signal(sig))
			err := waitSignaled(t, cmd)
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit), "the child ended with %v", err)
			ws := exit.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled(), "killed by the signal, as without debug mode: %v", err)
			assert.Equal(t, sig, ws.Signal())

			// The Logger was closed first: the record and session_end are on disk.
			files := filesOfSession(t, dir)
			requests := readLines(t, files["requests"])
			require.Len(t, requests, 1)
			assert.Equal(t, "before-the-signal", requests[0]["ace_id"])
			session := readLines(t, files["session"])
			assert.Equal(t, "session_end", session[len(session)-1]["event"])
		})
	}
}

// TestCloseOnSignalLeavesAnIgnoredSignalIgnored: a server started with
// SIGINT ignored (in the background, by a shell) goes on, its debug mode
// with it, when a SIGINT comes; SIGTERM still closes and ends it.
func TestCloseOnSignalLeavesAnIgnoredSignalIgnored(t *testing.T) {
	dir := t.TempDir()
	cmd, stdin, out := startCloseOnSignalChild(t, dir, true)
	var line string
	var err error

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	// The child serves on: a record logged after the SIGINT is written.
	// (A SIGINT that closed the Logger would close it before or during
	// this one, and the record or its flush would be lost.)
	for i := 0; i < 3; i++ {
		_, err = fmt.Fprintf(stdin, "after-sigint-%d\n", i)
		require.NoError(t, err)
		line, err = out.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "logged\n", line)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = waitSignaled(t, cmd)
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child ended with %v", err)
	assert.Equal(t, syscall.SIGTERM, exit.Sys().(syscall.WaitStatus).Signal())

	files := filesOfSession(t, dir)
	requests := readLines(t, files["requests"])
	require.Len(t, requests, 4, "the records after the SIGINT are in the files")
	assert.Equal(t, "after-sigint-2", requests[3]["ace_id"])
	session := readLines(t, files["session"])
	assert.Equal(t, "session_end", session[len(session)-1]["event"])
	events := 0
	for _, m := range session {
		if m["event"] == "session_end" {
			events++
		}
	}
	assert.Equal(t, 1, events, "closed once, by the SIGTERM")
}

func TestCloseOnSignalReturnsAFunctionThatCloses(t *testing.T) {
	l, _ := newDebugLogger(t, Config{})
	closeNow := l.CloseOnSignal(syscall.SIGUSR2)
	l.LogRequest(context.Background(), "GET", "/x", time.Millisecond, 200, "")
	require.NoError(t, closeNow())
	require.NoError(t, closeNow(), "idempotent")
	session := readFile(t, l, "session")
	assert.Equal(t, "session_end", session[len(session)-1]["event"])
	assert.False(t, l.DebugMode())
	// goleak in TestMain: the listening goroutine is gone.
}

// filesOfSession maps the categories of the one session in dir to their
// files.
func filesOfSession(t *testing.T, dir string) map[string]string {
	t.Helper()
	starts, err := filepath.Glob(filepath.Join(dir, "*_session.jsonl"))
	require.NoError(t, err)
	require.Len(t, starts, 1)
	id := strings.TrimSuffix(filepath.Base(starts[0]), "_session.jsonl")
	all, err := filepath.Glob(filepath.Join(dir, id+"_*.jsonl"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, path := range all {
		out[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), id+"_"), ".jsonl")] = path
	}
	return out
}

// readLines decodes every line of a file (none for an empty one).
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(data) == 0 {
		return nil
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}
