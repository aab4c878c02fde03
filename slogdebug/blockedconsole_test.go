//go:build unix

package slogdebug

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stuckWriter is a console that, once stuck, blocks every write until
// released: stderr into a log driver on a full disk.
type stuckWriter struct {
	mu      sync.Mutex
	stuck   bool
	release chan struct{}
}

func newStuckWriter() *stuckWriter { return &stuckWriter{release: make(chan struct{})} }

func (w *stuckWriter) stick() { w.mu.Lock(); w.stuck = true; w.mu.Unlock() }

func (w *stuckWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	stuck := w.stuck
	w.mu.Unlock()
	if stuck {
		<-w.release
	}
	return len(p), nil
}

// within runs f on a goroutine of its own and fails the test if it has not
// returned in a minute: what must not hang fails instead of hanging the
// suite (the bound is never reached when it works).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s hung on a blocked console", what)
	}
}

// TestABlockedConsoleHoldsUpNeitherARequestNorClose is break 1 of the
// second trust round, in process: with the console blocked, a stress
// event held up the request whose record fired it, and Close (writing
// stress_suppressed to the console under the Logger's lock) never returned.
func TestABlockedConsoleHoldsUpNeitherARequestNorClose(t *testing.T) {
	w := newStuckWriter()
	defer close(w.release) // let the console's goroutine go, for goleak
	l, err := New(Config{Enabled: true, Dir: t.TempDir()}, w)
	require.NoError(t, err)
	w.stick()
	ctx := context.Background()
	within(t, "a slow request", func() {
		l.LogRequest(ctx, "GET", "/slow1", 9*time.Second, 200, "") // slow_request, to the console
		l.LogRequest(ctx, "GET", "/slow2", 9*time.Second, 200, "") // held back: stress_suppressed at Close
	})
	within(t, "Close", func() { require.NoError(t, l.Close()) })
	stress := readFile(t, l, "stress")
	assert.Len(t, eventsOf(stress, "slow_request"), 2, "the files have both")
	assert.Equal(t, "session_end", sessionEnd(t, l)["msg"])
}

// blockedConsoleChildEnv names the log directory of TestBlockedConsoleChild.
const blockedConsoleChildEnv = "SLOGDEBUG_BLOCKED_CONSOLE_CHILD_DIR"

// TestBlockedConsoleChild is the program TestSIGTERMEndsAProgramWithABlockedConsole
// runs: CloseOnSignal, a console that blocks once it is up, a stress event
// on it and one held back by the cooldown; then it waits for a signal.
func TestBlockedConsoleChild(t *testing.T) {
	dir := os.Getenv(blockedConsoleChildEnv)
	if dir == "" {
		t.Skip("run by TestSIGTERMEndsAProgramWithABlockedConsole")
	}
	w := newStuckWriter()
	logger, err := New(Config{Enabled: true, Dir: dir}, w)
	if err != nil {
		panic(err)
	}
	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()
	w.stick()
	logger.LogRequest(context.Background(), "GET", "/slow1", 9*time.Second, 200, "")
	logger.LogRequest(context.Background(), "GET", "/slow2", 9*time.Second, 200, "")
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the signal, or the test's end
}

// TestSIGTERMEndsAProgramWithABlockedConsole is break 1 of the second
// trust round, in a child process: with CloseOnSignal and a blocked
// console, SIGTERM no longer ended the program (alive 4 s later, no
// session_end): Close waited on the console.
func TestSIGTERMEndsAProgramWithABlockedConsole(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBlockedConsoleChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), blockedConsoleChildEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = stdin.Close() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = waitSignaled(t, cmd)
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child ended with %v", err)
	assert.Equal(t, syscall.SIGTERM, exit.Sys().(syscall.WaitStatus).Signal())
	session := readLines(t, filesOfSession(t, dir)["session"])
	assert.Equal(t, "session_end", session[len(session)-1]["event"])
}
