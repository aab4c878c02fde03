package slogdebug

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// BenchmarkPlainDebugLine is a program's own slog.Debug line, with no
// category, with debug mode on and the console at Info (the acexy fork logs
// about fifteen a request): through the Logger itself (road=logger: the
// record is built, then dropped before debug mode's handlers) and through
// slog's default after Init (road=default: not enabled, no record), against
// slog's own default handler (road=slog_default, debug mode absent).
func BenchmarkPlainDebugLine(b *testing.B) {
	ctx := context.Background()
	attrs := []slog.Attr{slog.String("host", "127.0.0.1"), slog.Int("port", 6878)}
	lines := func(b *testing.B, lg *slog.Logger) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			lg.LogAttrs(ctx, slog.LevelDebug, "selected engine", attrs...)
		}
	}
	b.Run("road=logger", func(b *testing.B) {
		l := benchLogger(b, Config{Enabled: true})
		lines(b, l.Logger)
		finish(b, l)
	})
	b.Run("road=default", func(b *testing.B) {
		old := slog.Default()
		defer slog.SetDefault(old)
		l, err := Init(Config{Enabled: true, Dir: b.TempDir(), Console: slog.NewTextHandler(io.Discard, nil)})
		if err != nil {
			b.Fatal(err)
		}
		defer defaultLogger.Store(nil)
		lines(b, slog.Default())
		finish(b, l)
	})
	b.Run("road=slog_default", func(b *testing.B) { lines(b, slog.Default()) })
}
