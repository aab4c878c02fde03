package stress

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkObserve is the cost of observing a LogRequest-shaped record that
// fires nothing (a 1.2ms request), the common case.
func BenchmarkObserve(b *testing.B) {
	h, err := New(Options{Files: slog.NewJSONHandler(io.Discard, nil)})
	if err != nil {
		b.Fatal(err)
	}
	bound := h.WithAttrs([]slog.Attr{slog.String("category", "requests")})
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "request", 0)
	r.AddAttrs(
		slog.String("method", "GET"),
		slog.String("path", "/ace/getstream"),
		slog.Duration("duration", 1234567*time.Nanosecond),
		slog.Int("status_code", 200),
		slog.String("ace_id", "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"),
	)
	ctx := context.Background()
	b.Run("mode=serial", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			bound.Handle(ctx, r)
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bound.Handle(ctx, r)
			}
		})
	})
}
