package handler

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/internal/config"
)

// benchRecord is the LogRequest record: five attrs, category bound.
func benchRecord() slog.Record {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "request", 0)
	r.AddAttrs(
		slog.String("method", "GET"),
		slog.String("path", "/ace/getstream"),
		slog.Duration("duration", 1234567*time.Nanosecond),
		slog.Int("status_code", 200),
		slog.String("ace_id", "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"),
	)
	return r
}

func benchHandler(b *testing.B, opts Options) *Handler {
	b.Helper()
	if opts.Dir == "" {
		opts.Dir = b.TempDir()
	}
	h, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// BenchmarkEncode is the encoding of one record alone, against slog's
// JSONHandler formatting the same record into io.Discard.
func BenchmarkEncode(b *testing.B) {
	r := benchRecord()
	b.Run("impl=handler", func(b *testing.B) {
		h := benchHandler(b, Options{})
		hh := h.WithAttrs([]slog.Attr{slog.String("category", "requests")}).(*Handler)
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			buf = hh.encode(buf[:0], &r, hh.cat, stamp{}, config.DefaultMaxLineBytes)
		}
	})
	b.Run("impl=slog_json", func(b *testing.B) {
		h := slog.NewJSONHandler(io.Discard, nil).WithAttrs([]slog.Attr{slog.String("category", "requests")})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			h.Handle(context.Background(), r)
		}
	})
}

// BenchmarkSustained measures records per second into the files, from the
// first record to the last byte written (Close included), with two logging
// goroutines on two cores. mode=block waits for room, so nothing is
// dropped and the rate is what the writer sustains; mode=drop is the
// default, and reports what it had to drop at that rate.
func BenchmarkSustained(b *testing.B) {
	for _, mode := range []string{"block", "drop"} {
		b.Run("mode="+mode, func(b *testing.B) {
			h, err := New(Options{Dir: b.TempDir(), BlockWhenFull: mode == "block"})
			if err != nil {
				b.Fatal(err)
			}
			l := slog.New(h).With("category", "requests")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.LogAttrs(ctx, slog.LevelDebug, "request",
						slog.String("method", "GET"), slog.String("path", "/ace/getstream"),
						slog.Duration("duration", 1234567*time.Nanosecond), slog.Int("status_code", 200),
						slog.String("ace_id", "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"))
				}
			})
			if err := h.Close(); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			st := h.Stats().Categories["requests"]
			b.ReportMetric(float64(st.Written)/elapsed.Seconds(), "written/s")
			b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
		})
	}
}
