package slogdebug

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The LogRequest record of every benchmark here: method, path, duration,
// status_code and ace_id, plus category "requests".
const (
	benchMethod = "GET"
	benchPath   = "/ace/getstream"
	benchDur    = 1234567 * time.Nanosecond
	benchStatus = 200
	benchAceID  = "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"
)

// naiveLogger is the previous Go port's approach, the baseline: one mutex,
// and for every record a map, json.Marshal, open, append and close.
type naiveLogger struct {
	mu        sync.Mutex
	dir       string
	sessionID string
	start     time.Time
}

func (n *naiveLogger) writeLog(category string, data map[string]any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	data["session_id"] = n.sessionID
	data["timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
	data["elapsed_seconds"] = time.Since(n.start).Seconds()
	f, err := os.OpenFile(filepath.Join(n.dir, fmt.Sprintf("%s_%s.jsonl", n.sessionID, category)), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	json.NewEncoder(f).Encode(data)
}

func (n *naiveLogger) LogRequest(method, path string, d time.Duration, status int, aceID string) {
	n.writeLog("requests", map[string]any{
		"method": method, "path": path, "duration_ms": d.Milliseconds(), "status_code": status, "ace_id": aceID,
	})
}

// benchLogger returns a Logger writing into a temporary directory, with
// the console on io.Discard (at Info, so the Debug records of the helpers
// skip it as they would in production).
func benchLogger(b *testing.B, cfg Config) *Logger {
	b.Helper()
	cfg.Dir = b.TempDir()
	l, err := New(cfg, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// finish closes l and reports what was dropped: a benchmark that dropped
// records measured the drop path, not the write path.
func finish(b *testing.B, l *Logger) {
	b.Helper()
	b.StopTimer()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	st := l.Stats()
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
}

// BenchmarkLogRequest is the caller's cost of one LogRequest-shaped record:
// through the full debug-mode fan-out (impl=fanout), through
// slog.NewJSONHandler(io.Discard) (impl=slog_json), through the old
// open/append/close port (impl=naive), with debug mode off and the flight
// recorder on (impl=flight), and with debug mode off (impl=off).
//
// impl=fanout and impl=slog_json also report caller-cpu-ns/op, the CPU
// time of the logging goroutine alone: on a shared machine it moves less
// than ns/op. If the writer falls behind, impl=fanout drops (and counts)
// part of its records, which are cheaper; impl=fanout_blocking waits for
// room instead, so its ns/op is the slower side's pace.
func BenchmarkLogRequest(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=fanout", func(b *testing.B) {
		l := benchLogger(b, Config{Enabled: true})
		b.ReportAllocs()
		b.ResetTimer()
		report := callerCPU(b)
		for range b.N {
			l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
		report()
		finish(b, l)
	})
	b.Run("impl=fanout_blocking", func(b *testing.B) {
		l := benchLogger(b, Config{Enabled: true, BlockWhenFull: true})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
		finish(b, l)
	})
	b.Run("impl=slog_json", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})).With("category", "requests")
		b.ReportAllocs()
		b.ResetTimer()
		report := callerCPU(b)
		for range b.N {
			l.LogAttrs(ctx, slog.LevelDebug, "request",
				slog.String("method", benchMethod), slog.String("path", benchPath), slog.Duration("duration", benchDur),
				slog.Int("status_code", benchStatus), slog.String("ace_id", benchAceID))
		}
		report()
	})
	b.Run("impl=naive", func(b *testing.B) {
		n := &naiveLogger{dir: b.TempDir(), sessionID: "bench", start: time.Now()}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			n.LogRequest(benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
	})
	b.Run("impl=flight", func(b *testing.B) {
		// Debug mode off, the flight recorder keeping the last minute.
		l := benchLogger(b, Config{FlightRecorder: time.Minute})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
		finish(b, l)
	})
	b.Run("impl=off", func(b *testing.B) {
		l := benchLogger(b, Config{})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
		finish(b, l)
	})
}

// BenchmarkLogRequestParallel is BenchmarkLogRequest from every core at once.
func BenchmarkLogRequestParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=fanout", func(b *testing.B) {
		l := benchLogger(b, Config{Enabled: true})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
			}
		})
		finish(b, l)
	})
	b.Run("impl=slog_json", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})).With("category", "requests")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.LogAttrs(ctx, slog.LevelDebug, "request",
					slog.String("method", benchMethod), slog.String("path", benchPath), slog.Duration("duration", benchDur),
					slog.Int("status_code", benchStatus), slog.String("ace_id", benchAceID))
			}
		})
	})
	b.Run("impl=naive", func(b *testing.B) {
		n := &naiveLogger{dir: b.TempDir(), sessionID: "bench", start: time.Now()}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n.LogRequest(benchMethod, benchPath, benchDur, benchStatus, benchAceID)
			}
		})
	})
}

// BenchmarkPlainSlog is the same record through plain slog calls on the
// fan-out (logger.With("category", ...).LogAttrs), which pays for
// runtime.Callers as every slog.Logger call does.
func BenchmarkPlainSlog(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=fanout", func(b *testing.B) {
		l := benchLogger(b, Config{Enabled: true})
		requests := l.With("category", "requests")
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			requests.LogAttrs(ctx, slog.LevelDebug, "request",
				slog.String("method", benchMethod), slog.String("path", benchPath), slog.Duration("duration", benchDur),
				slog.Int("status_code", benchStatus), slog.String("ace_id", benchAceID))
		}
		finish(b, l)
	})
}

// spinSink keeps the compiler from removing spin's loop.
var spinSink uint64

// spin is fixed, allocation-free work of about two microseconds: a
// stand-in for what a proxy does between two records.
func spin() {
	x := spinSink | 1
	for range 2000 {
		x = x*6364136223846793005 + 1442695040888963407
	}
	spinSink = x
}

// BenchmarkLogRequestPaced logs at a proxy's pace rather than flat out:
// every op is spin() and then one record, so the writer keeps up and no
// record is dropped. impl=work is spin() alone; an impl's cost per record
// is its ns/op minus work's.
func BenchmarkLogRequestPaced(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=work", func(b *testing.B) {
		b.ResetTimer()
		report := callerCPU(b)
		for range b.N {
			spin()
		}
		report()
	})
	b.Run("impl=fanout", func(b *testing.B) {
		l := benchLogger(b, Config{Enabled: true})
		b.ReportAllocs()
		b.ResetTimer()
		report := callerCPU(b)
		for range b.N {
			spin()
			l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
		report()
		finish(b, l)
	})
	b.Run("impl=slog_json", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})).With("category", "requests")
		b.ReportAllocs()
		b.ResetTimer()
		report := callerCPU(b)
		for range b.N {
			spin()
			l.LogAttrs(ctx, slog.LevelDebug, "request",
				slog.String("method", benchMethod), slog.String("path", benchPath), slog.Duration("duration", benchDur),
				slog.Int("status_code", benchStatus), slog.String("ace_id", benchAceID))
		}
		report()
	})
}

// BenchmarkSlowRequest is the caller's cost of a request slow enough to be
// a stress event (slow_request): with debug mode on (impl=on), and with
// debug mode off and the flight recorder on (impl=flight), where the event
// has the recorded window written out, on the dumper's goroutine.
func BenchmarkSlowRequest(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"impl=on", Config{Enabled: true}},
		{"impl=flight", Config{FlightRecorder: time.Minute}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := benchLogger(b, tc.cfg)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
				l.LogRequest(ctx, benchMethod, benchPath, 6*time.Second, benchStatus, benchAceID)
			}
			finish(b, l)
		})
	}
}

// BenchmarkSlowRequestFullWindow is the cost, to the request that fires
// it, of a stress event over a full flight-recorder window (16 MiB of
// LogRequest records, the default bound): the dump itself is the dumper's
// work. Each op fills the window (not timed), then times the slow request;
// Flush (not timed) waits for the dump: dump-ms/op. B/op counts what the
// dumper allocates while the op is timed.
func BenchmarkSlowRequestFullWindow(b *testing.B) {
	ctx := context.Background()
	l := benchLogger(b, Config{FlightRecorder: time.Hour})
	b.ReportAllocs()
	var dumping time.Duration // the dumps' wall time, from the event to Flush's return
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for range 60_000 { // ~300 bytes each kept: past the 16 MiB bound
			l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
		}
		b.StartTimer()
		l.LogRequest(ctx, benchMethod, benchPath, 6*time.Second, benchStatus, benchAceID)
		b.StopTimer()
		start := time.Now()
		if err := l.Flush(); err != nil {
			b.Fatal(err)
		}
		dumping += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(dumping.Milliseconds())/float64(b.N), "dump-ms/op")
	finish(b, l)
}

// BenchmarkConsoleLineDebugOff is a program's own slog.Info line with debug
// mode off: through the Logger (impl=logger, its console a TextHandler of
// the program's on io.Discard; impl=logger_tint, tint's) against that
// TextHandler alone (impl=console): what the Logger adds to every line a
// proxy writes anyway.
func BenchmarkConsoleLineDebugOff(b *testing.B) {
	ctx := context.Background()
	line := func(b *testing.B, l *slog.Logger) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			l.LogAttrs(ctx, slog.LevelInfo, "stream started", slog.String("ace_id", benchAceID), slog.String("engine", "127.0.0.1:6878"))
		}
	}
	b.Run("impl=console", func(b *testing.B) { line(b, slog.New(slog.NewTextHandler(io.Discard, nil))) })
	b.Run("impl=logger", func(b *testing.B) {
		l := benchLogger(b, Config{Console: slog.NewTextHandler(io.Discard, nil)})
		line(b, l.Logger)
		finish(b, l)
	})
	b.Run("impl=logger_tint", func(b *testing.B) {
		l := benchLogger(b, Config{})
		line(b, l.Logger)
		finish(b, l)
	})
}
