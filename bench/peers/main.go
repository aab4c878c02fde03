// Command peers logs the LogRequest line flat out from one goroutine into
// real files, through debugmode or one of its peers (zerolog and zap into a
// bufio.Writer over the file, slog's JSONHandler likewise), and prints one
// line in Go's benchmark format: the process's CPU time (user and system,
// every goroutine: caller and writer together) per written line, the wall
// time per line, and the share of lines lost. Run each implementation in a
// process of its own (make bench-peers interleaves them), so that CPU times
// do not mix.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	slogmulti "github.com/samber/slog-multi"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/proxydebug/debugmode/slogdebug"
)

const (
	method = "GET"
	path   = "/ace/getstream"
	dur    = 1234567 * time.Nanosecond
	status = 200
	aceID  = "94c2fd8fb9bc8f2fc71a2cbe9d4b866f227a0209"
)

func main() {
	impl := flag.String("impl", "debugmode", "debugmode, zerolog, zap or slog_json; zerolog_discard and record_fanout measure the floor (see floor)")
	n := flag.Int("n", 1_000_000, "lines to log")
	profile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "peers")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)

	start, cpu0 := time.Now(), cpuTime()
	written, err := run(*impl, dir, *n)
	if err != nil {
		fail(err)
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	lost := 100 * float64(*n-written) / float64(*n)
	fmt.Printf("BenchmarkFlatOut/impl=%s \t%d\t%.1f ns/op\t%.1f cpu-ns/line\t%.3f lost-%%\t%.1f bytes/line\n",
		*impl, *n, float64(wall.Nanoseconds())/float64(*n), float64(cpu.Nanoseconds())/float64(max(written, 1)), lost,
		float64(dirBytes(dir))/float64(max(written, 1)))
}

// run logs n lines and returns how many reached the file.
func run(impl, dir string, n int) (int, error) {
	ctx := context.Background()
	if impl == "debugmode" {
		l, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, DisableStress: true}, io.Discard)
		if err != nil {
			return 0, err
		}
		for range n {
			l.LogRequest(ctx, method, path, dur, status, aceID)
		}
		if err := l.Close(); err != nil {
			return 0, err
		}
		return int(l.Stats().Categories["requests"].Written), nil
	}
	f, err := os.Create(filepath.Join(dir, "requests.jsonl"))
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	session, t0 := "20261207_101715", time.Now()
	switch impl {
	case "zerolog":
		zerologLines(w, n, session, t0)
	case "zap":
		enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg", LevelKey: "level", TimeKey: "timestamp",
			EncodeLevel: zapcore.CapitalLevelEncoder, EncodeTime: zapcore.RFC3339NanoTimeEncoder, EncodeDuration: zapcore.MillisDurationEncoder})
		zl := zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zapcore.DebugLevel)).With(zap.String("session_id", session))
		for range n {
			zl.Debug("request", zap.Float64("elapsed_seconds", time.Since(t0).Seconds()), zap.String("category", "requests"),
				zap.String("method", method), zap.String("path", path), zap.Duration("duration_ms", dur),
				zap.Int("status_code", status), zap.String("ace_id", aceID))
		}
	case "slog_json":
		sl := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("session_id", session, "category", "requests")
		for range n {
			sl.LogAttrs(ctx, slog.LevelDebug, "request", slog.Float64("elapsed_seconds", time.Since(t0).Seconds()),
				slog.String("method", method), slog.String("path", path), slog.Duration("duration", dur),
				slog.Int("status_code", status), slog.String("ace_id", aceID))
		}
	case "zerolog_discard", "record_fanout":
		floor(impl, n, session, t0)
	default:
		return 0, fmt.Errorf("unknown -impl %q", impl)
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	return n, f.Close()
}

// dirBytes is the size of the request lines' file in dir.
func dirBytes(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if info, err := e.Info(); err == nil && filepath.Ext(e.Name()) == ".jsonl" && !strings.HasSuffix(e.Name(), "_session.jsonl") {
			n += info.Size()
		}
	}
	return n
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peers:", err)
	os.Exit(1)
}

// floor runs the two measures that bound what a slog handler can cost
// against zerolog, writing no file: zerolog_discard is zerolog's line into
// io.Discard (its CPU without the kernel's write: zerolog's cost minus
// this is the write, which every implementation pays for the same bytes);
// record_fanout is what the design makes every record cost before it is
// encoded (slogdebug's road: a slog.Record of the line's attributes, made
// as the typed helpers make it, handed through slogmulti.Fanout of the
// console and the files' fan-out, here to handlers that do nothing).
func floor(impl string, n int, session string, t0 time.Time) {
	ctx := context.Background()
	switch impl {
	case "zerolog_discard":
		zerologLines(io.Discard, n, session, t0)
	case "record_fanout":
		h := slogmulti.Fanout(nopHandler{}, slogmulti.Fanout(nopHandler{}))
		for range n {
			r := slog.NewRecord(time.Now(), slog.LevelDebug, "request", 0)
			r.AddAttrs(slog.String("category", "requests"), slog.String("method", method), slog.String("path", path),
				slog.Duration("duration", dur), slog.Int("status_code", status), slog.String("ace_id", aceID))
			_ = h.Handle(ctx, r)
		}
	}
}

// zerologLines logs n request lines into w with zerolog.
func zerologLines(w io.Writer, n int, session string, t0 time.Time) {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	zl := zerolog.New(w).Level(zerolog.DebugLevel).With().Str("session_id", session).Logger()
	for range n {
		now := time.Now()
		zl.Debug().Time("timestamp", now.UTC()).Float64("elapsed_seconds", now.Sub(t0).Seconds()).
			Str("category", "requests").Str("method", method).Str("path", path).
			Float64("duration_ms", float64(dur)/1e6).Int("status_code", status).Str("ace_id", aceID).Msg("request")
	}
}

type nopHandler struct{}

func (nopHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (nopHandler) Handle(context.Context, slog.Record) error { return nil }
func (h nopHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h nopHandler) WithGroup(string) slog.Handler           { return h }
