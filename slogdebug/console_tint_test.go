//go:build !debugmode_notint

package slogdebug

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lmittmann/tint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/redact"
)

// readsTintConsole marks a test that reads tint's console lines: it runs
// unless built with debugmode_notint (console_notint_test.go).
func readsTintConsole(*testing.T) {}

// Without colour, the console writes what tint's own NoColor writes, but
// that a colour sequence inside a value goes whole (tint's cuts it from the
// string before quoting it, and the rest of a string after invalid UTF-8).
func TestConsoleWithoutColourIsTintsNoColor(t *testing.T) {
	at := time.Date(2026, 12, 8, 1, 2, 3, 456e6, time.UTC)
	for _, tc := range []struct {
		name  string
		level slog.Level
		msg   string
		args  []any
	}{
		{"info with strings", slog.LevelInfo, "Selected engine from orchestrator", []any{"host", "127.0.0.1", "port", 40001}},
		{"quoted values", slog.LevelWarn, "Failed to select engine", []any{"error", errors.New(`Get "http://orch:8000/engines": dial tcp: connection refused`), "path", "/ace/getstream"}},
		{"every kind", slog.LevelError, "kinds", []any{"d", 1500 * time.Millisecond, "f", 2.5, "b", true, "u", uint64(7), "t", at, "nil", nil, "empty", "", "eq", "a=b"}},
		{"group", slog.LevelDebug, "grouped", []any{slog.Group("req", "method", "GET", "id", "r-1"), "after", "x"}},
		{"a secret", slog.LevelInfo, "auth", []any{"token", "s3cr3t", "url", "http://u:p@host/x?api_key=k"}},
		{"controls in the message", slog.LevelInfo, "line\nbreak\ttab", []any{"k", "v"}},
		{"unicode", slog.LevelInfo, "größe", []any{"name", "naïve café", "emoji", "🎥"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			red := redact.New()
			var want, got bytes.Buffer
			tintNoColor := tint.NewTextHandler(&want, &tint.Options{Level: slog.LevelDebug, TimeFormat: "15:04:05.000", NoColor: true, ReplaceAttr: consoleSafety(red)})
			_, ours := ourConsole(&got, slog.LevelDebug, true, consoleSafety(red))
			for _, h := range []slog.Handler{tintNoColor, ours} {
				r := slog.NewRecord(at, tc.level, tc.msg, 0)
				r.Add(tc.args...)
				require.NoError(t, h.Handle(context.Background(), r))
			}
			assert.Equal(t, want.String(), got.String())
			assert.NotContains(t, got.String(), "\x1b")
		})
	}
	t.Run("a colour sequence in a value", func(t *testing.T) {
		var got bytes.Buffer
		_, ours := ourConsole(&got, slog.LevelDebug, true, consoleSafety(redact.New()))
		r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
		r.Add("v", "red \x1b[31mALERT\x1b[0m text", "bad", "ok\xffrest")
		require.NoError(t, ours.Handle(context.Background(), r))
		assert.NotContains(t, got.String(), "\x1b")
		assert.Contains(t, got.String(), `v="red ALERT text"`)
		assert.Contains(t, got.String(), `bad="ok\xffrest"`, "the rest of the string is kept")
	})
}

func BenchmarkConsoleWithoutColour(b *testing.B) {
	red := redact.New()
	for _, impl := range []string{"tint_nocolor", "ours"} {
		b.Run("impl="+impl, func(b *testing.B) {
			h := slog.Handler(tint.NewTextHandler(io.Discard, &tint.Options{TimeFormat: "15:04:05.000", NoColor: true, ReplaceAttr: consoleSafety(red)}))
			if impl == "ours" {
				_, h = ourConsole(io.Discard, slog.LevelInfo, true, consoleSafety(red))
			}
			l := slog.New(h)
			ctx := context.Background()
			b.ReportAllocs()
			for range b.N {
				l.LogAttrs(ctx, slog.LevelInfo, "stream started", slog.String("ace_id", benchAceID), slog.String("engine", "127.0.0.1:6878"))
			}
		})
	}
}
