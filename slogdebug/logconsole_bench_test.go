package slogdebug

import (
	"context"
	"io"
	"log"
	"log/slog"
	"testing"
)

// BenchmarkLogConsole is a program's own Info line through LogConsole
// (slog's default handler's format, without package log's writer lock
// around the Logger) against slog's default handler itself, both into
// package log's output on io.Discard.
func BenchmarkLogConsole(b *testing.B) {
	ctx := context.Background()
	out, flags := log.Writer(), log.Flags()
	log.SetOutput(io.Discard)
	b.Cleanup(func() { log.SetOutput(out); log.SetFlags(flags) })
	line := func(b *testing.B, l *slog.Logger) {
		b.ReportAllocs()
		for range b.N {
			l.LogAttrs(ctx, slog.LevelInfo, "stream started", slog.String("ace_id", benchAceID), slog.String("engine", "127.0.0.1:6878"))
		}
	}
	b.Run("impl=slog_default", func(b *testing.B) { line(b, slog.New(initialDefault)) })
	b.Run("impl=log_console", func(b *testing.B) { line(b, slog.New(LogConsole())) })
}
