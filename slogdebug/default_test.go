package slogdebug

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/stress"
)

// restoreDefaults puts slog's, package log's and this package's defaults
// back after a test (slog.SetDefault redirects package log).
func restoreDefaults(t *testing.T) {
	// The first TempDir registers the removal of every TempDir of the test;
	// registered before the cleanup below, it runs after it, so the default
	// logger's session_end is not written into (and does not recreate) a
	// directory already removed, leaving it behind in /tmp.
	_ = t.TempDir()
	old := slog.Default()
	w, flags, prefix := log.Writer(), log.Flags(), log.Prefix()
	t.Cleanup(func() {
		slog.SetDefault(old)
		log.SetOutput(w)
		log.SetFlags(flags)
		log.SetPrefix(prefix)
		if l := defaultLogger.Swap(nil); l != nil {
			l.Close()
		}
	})
}

func TestInitMakesSlogsDefaultWriteTheFiles(t *testing.T) {
	restoreDefaults(t)
	l, err := Init(Config{Enabled: true, Dir: t.TempDir()})
	require.NoError(t, err)
	assert.Same(t, l, Default())

	// The proxy's existing package-level slog calls.
	slog.With("category", "provisioning").Debug("provision", "operation", "provision_success")
	slog.Debug("no category: console only, and below its level")
	Default().LogRequest(context.Background(), "GET", "/ace/getstream", time.Second, 200, "abc")
	require.NoError(t, Flush())

	assert.Len(t, readFile(t, l, "provisioning"), 1)
	assert.Len(t, readFile(t, l, "requests"), 1)
	require.NoError(t, Close())
	lines := readFile(t, l, "session")
	assert.Equal(t, "session_end", lines[len(lines)-1]["event"])
}

func TestInitClosesThePreviousDefault(t *testing.T) {
	restoreDefaults(t)
	first, err := Init(Config{Enabled: true, Dir: t.TempDir()})
	require.NoError(t, err)
	second, err := Init(Config{Enabled: true, Dir: t.TempDir()})
	require.NoError(t, err)
	assert.Same(t, second, Default())
	lines := readFile(t, first, "session")
	assert.Equal(t, "session_end", lines[len(lines)-1]["event"], "the first session was ended")
}

func TestDefaultBeforeInitIsSafe(t *testing.T) {
	restoreDefaults(t)
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	l := Default()
	assert.False(t, l.DebugMode())
	l.LogRequest(context.Background(), "GET", "/x", 0, 200, "")
	l.LogStressEvent(context.Background(), stress.Event{Type: "slow_request", Level: slog.LevelWarn, Description: "shown on slog's default console"})
	assert.NoError(t, Flush())
	assert.NoError(t, Close())
}

// TestInitWithSlogsDefaultHandlerAsConsole keeps the console a service had
// before Init: slog's default handler, which writes through package log,
// which Init points back at slog. It must neither deadlock nor change what
// the console shows.
func TestInitWithSlogsDefaultHandlerAsConsole(t *testing.T) {
	restoreDefaults(t)
	var out syncWriter
	log.SetOutput(&out)
	log.SetFlags(log.Lmsgprefix)
	log.SetPrefix("proxy: ")
	console := slog.Default().Handler()
	require.Equal(t, "*slog.defaultHandler", typeName(console), "the test needs slog's own default handler")

	// What slog's default handler writes, before Init.
	logLine := func(h slog.Handler) {
		r := slog.NewRecord(time.Now(), slog.LevelWarn, "upstream slow", 0)
		r.AddAttrs(slog.String("path", "/ace/getstream"), slog.Group("engine", slog.Int("port", 6878)), slog.String("note", "two words"))
		require.NoError(t, h.WithAttrs([]slog.Attr{slog.String("component", "proxy")}).WithGroup("req").Handle(context.Background(), r))
	}
	logLine(console)
	want := out.String()
	require.Equal(t, "proxy: WARN upstream slow component=proxy req.path=/ace/getstream req.engine.port=6878 req.note=\"two words\"\n", want)

	done := make(chan struct{})
	var announced string
	go func() {
		defer close(done)
		l, err := Init(Config{Console: console, Enabled: true, Dir: t.TempDir()})
		if err == nil {
			announced = fmt.Sprintf("proxy: INFO debug mode on session=%s dir=%s\n", l.SessionID(), l.Dir())
		}
		if !assert.NoError(t, err) {
			return
		}
		logLine(l.Handler()) // through the fan-out, to the console kept
		slog.Info("via slog", "k", 1)
		log.Print("via package log")
		slog.With("category", "provisioning").Debug("to the files only")
		assert.NoError(t, Flush())
		assert.Len(t, readFile(t, l, "provisioning"), 1)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("deadlock: logging with slog's default handler as the console never returned")
	}
	got := strings.TrimPrefix(out.String(), want)
	// (slog.SetDefault leaves package log's prefix on the messages it
	// hands over, whatever the handler.)
	assert.Equal(t, announced+want+"proxy: INFO via slog k=1\nproxy: INFO proxy: via package log\n", got, "the console writes as slog's default handler did")
}

// TestLogConsoleWritesAsSlogsDefaultHandler compares, byte for byte, the
// replacement console with slog's default handler under package log's
// flags and prefix.
func TestLogConsoleWritesAsSlogsDefaultHandler(t *testing.T) {
	restoreDefaults(t)
	var pcs [1]uintptr
	runtime.Callers(1, pcs[:])
	for _, flags := range []int{0, log.Lshortfile, log.Llongfile | log.Lmsgprefix, log.Lshortfile | log.Lmsgprefix} {
		var out syncWriter
		log.SetOutput(&out)
		log.SetFlags(flags)
		log.SetPrefix("[p] ")
		write := func(h slog.Handler) string {
			before := len(out.String())
			r := slog.NewRecord(time.Now(), slog.LevelInfo+2, "multi\nline msg", pcs[0])
			r.AddAttrs(slog.Any("err", io.EOF), slog.Duration("d", time.Second), slog.Group("g", slog.Bool("ok", true)), slog.Group("empty"))
			require.NoError(t, h.WithGroup("outer").WithAttrs([]slog.Attr{slog.String("a", "x=y")}).Handle(context.Background(), r))
			return out.String()[before:]
		}
		require.Equal(t, "*slog.defaultHandler", typeName(slog.Default().Handler()))
		want := write(slog.Default().Handler())
		got := write(LogConsole())
		assert.Equal(t, want, got, "flags %b", flags)
	}
}

// With debug mode on, slog's default after Init is not enabled at Debug for
// a record without a bound category below Info and the console's level: the
// program's own slog.Debug lines then build no record (slog asks Enabled
// first) and cost what they cost before Init. A category bound with With
// still lands at Debug, a call's own category from Info up or at the
// console's levels (and
// at Debug through the Logger itself, whose Debug stays enabled).
func TestSlogsDefaultBuildsNoRecordForTheProgramsDebugLines(t *testing.T) {
	for _, tc := range []struct {
		name       string
		console    slog.Level
		defaultCat string
		debugOn    bool // slog.Default() enabled at Debug
	}{
		{name: "console at info", console: slog.LevelInfo},
		{name: "console at debug", console: slog.LevelDebug, debugOn: true},
		{name: "a default category", console: slog.LevelInfo, defaultCat: "misc", debugOn: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restoreDefaults(t)
			var console strings.Builder
			l, err := Init(Config{Enabled: true, Dir: t.TempDir(), DefaultCategory: tc.defaultCat,
				Console: slog.NewTextHandler(&console, &slog.HandlerOptions{Level: tc.console})})
			require.NoError(t, err)
			ctx := context.Background()
			assert.Equal(t, tc.debugOn, slog.Default().Enabled(ctx, slog.LevelDebug))
			assert.True(t, l.Enabled(ctx, slog.LevelDebug), "the Logger itself")
			assert.True(t, slog.Default().With("category", "provisioning").Enabled(ctx, slog.LevelDebug), "a bound category")

			slog.Debug("own-debug-line", "host", "127.0.0.1")
			slog.With("category", "provisioning").Debug("bound-debug")
			slog.Debug("call-debug", "category", "streams")
			slog.Warn("call-warn", "category", "streams")
			l.Debug("logger-call-debug", "category", "streams")
			require.NoError(t, Flush())

			assert.Equal(t, []string{"bound-debug"}, msgs(readFile(t, l, "provisioning")))
			streams := []string{"call-warn", "logger-call-debug"}
			if tc.debugOn {
				streams = []string{"call-debug", "call-warn", "logger-call-debug"}
			}
			assert.Equal(t, streams, msgs(readFile(t, l, "streams")))
			if tc.defaultCat != "" {
				assert.Equal(t, []string{"own-debug-line"}, msgs(readFile(t, l, tc.defaultCat)))
			}
			assert.Equal(t, tc.console == slog.LevelDebug, strings.Contains(console.String(), "own-debug-line"), "%s", console.String())
		})
	}
}

// The console's level is what the console shows, not what the files take:
// from Info up, slog's default after Init is enabled whatever the console
// (a quiet one, DEBUG_CONSOLE_LEVEL=warn or error, or none at all), so a
// call's own category at Info, Warn or Error still lands, as the guide says
// ("lands at Info and above"). Below Info the console's level decides.
func TestSlogsDefaultKeepsACallsCategoryFromInfoWhateverTheConsole(t *testing.T) {
	for _, console := range []slog.Level{slog.LevelWarn, slog.LevelError, slog.LevelError + 8} {
		t.Run(console.String(), func(t *testing.T) {
			restoreDefaults(t)
			l, err := Init(Config{Enabled: true, Dir: t.TempDir(),
				Console: slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: console})})
			require.NoError(t, err)
			ctx := context.Background()
			assert.True(t, slog.Default().Enabled(ctx, slog.LevelInfo))
			assert.False(t, slog.Default().Enabled(ctx, slog.LevelDebug))

			slog.Debug("call-debug", "category", "streams")
			slog.Info("call-info", "category", "streams")
			slog.Warn("call-warn", "category", "streams")
			slog.Error("call-error", "category", "streams")
			slog.Info("no category")
			require.NoError(t, Flush())
			assert.Equal(t, []string{"call-info", "call-warn", "call-error"}, msgs(readFile(t, l, "streams")))
		})
	}
}

func msgs(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		out = append(out, fmt.Sprint(m["msg"]))
	}
	return out
}
