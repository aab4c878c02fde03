package slogdebug

import (
	"context"
	"log/slog"
	"testing"
)

// BenchmarkPlainDebugLine is a program's own slog.Debug line, with no
// category, through a Logger with debug mode on and the console at Info:
// it reaches no file and no console (the acexy fork logs several a request).
func BenchmarkPlainDebugLine(b *testing.B) {
	l := benchLogger(b, Config{Enabled: true})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.LogAttrs(ctx, slog.LevelDebug, "selected engine", slog.String("host", "127.0.0.1"), slog.Int("port", 6878))
	}
	finish(b, l)
}
