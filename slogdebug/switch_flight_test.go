package slogdebug

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookHandler is a console that calls a hook when a line it writes
// contains hookWriter.on.
type hookHandler struct {
	w *hookWriter
}

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h hookHandler) WithGroup(string) slog.Handler            { return h }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	h.w.Write([]byte(line + "\n"))
	return nil
}

type hookWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	fired atomic.Bool
	on    string
	hook  func()
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.b.Write(p)
	w.mu.Unlock()
	if strings.Contains(string(p), w.on) && w.fired.CompareAndSwap(false, true) {
		w.hook()
	}
	return len(p), nil
}
func (w *hookWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }

// TestSwitchingOffNeverDumpsIntoOpenFiles: a stress event logged while
// SetDebug(false) closes the debug-mode files (here: from the console, as
// stress detection's closing summary reaches it) is written, and no flight
// recorder dump opens the session while the old files still hold it.
func TestSwitchingOffNeverDumpsIntoOpenFiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var l *Logger
	w := &hookWriter{on: "stress_suppressed"}
	w.hook = func() {
		// Debug mode is already off (published); the old files are not closed yet.
		l.LogRequest(ctx, "GET", "/slow-during-switch", 9*time.Second, 200, "")
		require.NoError(t, l.Flush())
	}
	var err error
	// syncConsole: the hook runs during the switch, as the console line is written.
	l, err = New(Config{Dir: dir, Enabled: true, FlightRecorder: time.Minute, Console: hookHandler{w}, syncConsole: true}, nil)
	require.NoError(t, err)
	defer l.Close()
	l.LogRequest(ctx, "GET", "/slow1", 9*time.Second, 200, "")
	l.LogRequest(ctx, "GET", "/slow2", 9*time.Second, 200, "") // held by the cooldown: stress_suppressed at close
	require.NoError(t, l.SetDebug(false))
	require.True(t, w.fired.Load(), "hook ran")
	require.NoError(t, l.Close())
	out := w.String()
	assert.NotContains(t, out, "writing the debug files failed", "console:\n%s", out)
	var paths []string
	for _, m := range readFile(t, l, "requests") {
		paths = append(paths, m["path"].(string))
	}
	assert.Contains(t, paths, "/slow-during-switch")
}
