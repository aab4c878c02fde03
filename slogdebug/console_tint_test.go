//go:build !debugmode_notint

package slogdebug

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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

// An escape byte of a value's or a key's own (an error's text, a remote
// answer) is no colour sequence of tint's: stripping it must not run on
// past its string, into the separators, the next attribute or the line's
// end (two lines in one). A sequence (ESC [ parameters, a letter) goes as
// tint's NoColor cuts it; any other ESC is written as the text \x1b, which
// is also what a value's literal \x1b is (tint's colour output writes it
// as a backslash and an ESC).
func TestConsoleWithoutColourKeepsEachLineWhole(t *testing.T) {
	at := time.Date(2026, 12, 8, 1, 2, 3, 456e6, time.UTC)
	for _, tc := range []struct {
		name string
		args []any
		want string // the line's attributes, but the last n=1
		last bool   // args end the line: no n=1
	}{
		{"an ESC ending the line", []any{"v", "x\x1b"}, `v=x\x1b`, true},
		{"an ESC ending a value", []any{"v", "x\x1b"}, `v=x\x1b`, false},
		{"an ESC ending a quoted error", []any{"err", errors.New("bad byte \x1b")}, `err="bad byte \x1b"`, false},
		{"an ESC before spaces", []any{"v", "a\x1b 1 2"}, `v="a\x1b 1 2"`, false},
		{"an ESC ending a key", []any{"k\x1b", "v"}, `k\x1b=v`, false},
		{"an ESC in a group", []any{slog.Group("g", "a", "x\x1b")}, `g.a=x\x1b`, false},
		{"an ESC before a non-ASCII letter", []any{"v", "\x1bé rest"}, `v="\x1bé rest"`, false},
		{"a literal \\x1b", []any{"v", `lit \x1b here`}, `v="lit \\x1b here"`, false},
		{"a CSI with parameters", []any{"v", "\x1b[1;31mred\x1b[0m"}, `v=red`, false},
		{"a private CSI", []any{"v", "\x1b[?25l hidden"}, `v=" hidden"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			_, ours := ourConsole(&got, slog.LevelDebug, true, consoleSafety(redact.New()))
			for range 2 {
				r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
				r.Add(tc.args...)
				if !tc.last {
					r.Add("n", 1)
				}
				require.NoError(t, ours.Handle(context.Background(), r))
			}
			line := "01:02:03.456 INF m " + tc.want + " n=1\n"
			if tc.last {
				line = "01:02:03.456 INF m " + tc.want + "\n"
			}
			assert.Equal(t, line+line, got.String())
		})
	}
}

// FuzzConsoleWithoutColour: whatever a record holds, the console writes no
// ESC and one whole line; without an ESC or a literal \x1b (and with valid
// UTF-8, which tint's NoColor cuts at), the line is tint's NoColor's.
func FuzzConsoleWithoutColour(f *testing.F) {
	f.Add("k", "v\x1b", "m", "e\x1b[31m")
	f.Add("k\x1b[", "v", "m", `\x1b`)
	f.Add("key", `lit \x1b`, "msg\x1b", "x\x1b[1;2")
	at := time.Date(2026, 12, 8, 1, 2, 3, 456e6, time.UTC)
	f.Fuzz(func(t *testing.T, key, val, msg, errText string) {
		red := redact.New()
		var want, got bytes.Buffer
		tintNoColor := tint.NewTextHandler(&want, &tint.Options{Level: slog.LevelDebug, TimeFormat: "15:04:05.000", NoColor: true, ReplaceAttr: consoleSafety(red)})
		_, ours := ourConsole(&got, slog.LevelDebug, true, consoleSafety(red))
		for _, h := range []slog.Handler{tintNoColor, ours} {
			r := slog.NewRecord(at, slog.LevelWarn, msg, 0)
			r.Add(key, val, "err", errors.New(errText), slog.Group("g", key, val), "n", 1)
			require.NoError(t, h.WithAttrs([]slog.Attr{slog.String(key, val)}).Handle(context.Background(), r))
		}
		line := got.String()
		if strings.Contains(line, "\x1b") || strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, " n=1\n") {
			t.Fatalf("not one whole line without ESC: %q (tint's NoColor: %q)", line, want.String())
		}
		plain := func(s string) bool {
			return utf8.ValidString(s) && !strings.Contains(s, "\x1b") && !strings.Contains(s, `\x1b`)
		}
		if plain(key) && plain(val) && plain(msg) && plain(errText) && line != want.String() {
			t.Fatalf("%q, tint's NoColor %q", line, want.String())
		}
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
