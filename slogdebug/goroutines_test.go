//go:build unix

package slogdebug

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panickyConsole is a console handler whose WithAttrs panics while armed
// (a bug in the service's own handler, say); it passes every message it
// handles to msgs.
type panickyConsole struct {
	armed *atomic.Bool
	msgs  chan string
}

func (c panickyConsole) Enabled(context.Context, slog.Level) bool { return true }
func (c panickyConsole) WithGroup(string) slog.Handler            { return c }

func (c panickyConsole) Handle(_ context.Context, r slog.Record) error {
	c.msgs <- r.Message
	return nil
}

func (c panickyConsole) WithAttrs([]slog.Attr) slog.Handler {
	if c.armed.Load() {
		panic("console WithAttrs panics")
	}
	return c
}

// waitFor receives messages until one contains want.
func waitFor(t *testing.T, msgs chan string, want string) string {
	t.Helper()
	for m := range msgs {
		if strings.Contains(m, want) {
			return m
		}
	}
	t.Fatalf("no message %q", want)
	return ""
}

// TestPanicInASignalToggleIsRecovered: switching debug mode on a signal
// runs on a goroutine of the library's; a console that panics as the new
// set-up binds it is recovered and counted, and the switch happens.
func TestPanicInASignalToggleIsRecovered(t *testing.T) {
	console := panickyConsole{armed: new(atomic.Bool), msgs: make(chan string, 100)}
	l, err := New(Config{Dir: t.TempDir(), Console: console}, nil)
	require.NoError(t, err)
	defer l.Close()
	stop := l.ToggleOnSignal(syscall.SIGUSR2)
	defer stop()

	console.armed.Store(true)
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGUSR2))
	waitFor(t, console.msgs, "debug mode switched by signal")
	assert.True(t, l.DebugMode())
	assert.Positive(t, l.Stats().Panics, "the console's panics are counted")
	stop()
	require.NoError(t, l.Close())
}

func TestToggleOnSignal(t *testing.T) {
	var console syncWriter
	l, err := New(Config{Dir: t.TempDir()}, &console)
	require.NoError(t, err)
	defer l.Close()
	stop := l.ToggleOnSignal(syscall.SIGUSR1)
	defer stop()
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGUSR1))
	require.Eventually(t, l.DebugMode, time.Minute, time.Millisecond, "SIGUSR1 switched debug mode on")
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGUSR1))
	require.Eventually(t, func() bool { return !l.DebugMode() }, time.Minute, time.Millisecond, "and off")
	stop()
	assert.Contains(t, console.String(), "debug mode switched by signal")
}
