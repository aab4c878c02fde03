package slogdebug

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkConsoleOfYourOwn is a program's own Info line, debug mode off,
// into a console of its own (Config.Console, JSON): impl=handler is that
// console alone, impl=logger the same through the Logger (the fan-out and
// the redactor, which hands a record without secrets on as it is).
func BenchmarkConsoleOfYourOwn(b *testing.B) {
	line := func(lg *slog.Logger) {
		lg.Info("stream started", "id", "0000aaaa", "engine_port", 6878, "took", 3*time.Millisecond, "clients", 2)
	}
	b.Run("impl=handler", func(b *testing.B) {
		lg := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for range b.N {
			line(lg)
		}
	})
	b.Run("impl=logger", func(b *testing.B) {
		l, err := New(Config{Console: slog.NewJSONHandler(io.Discard, nil)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		b.ReportAllocs()
		for range b.N {
			line(l.Logger)
		}
	})
}
