package slogdebug

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/lmittmann/tint"
	slogmulti "github.com/samber/slog-multi"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/stress"
)

// Logger is a *slog.Logger whose handler fans records out to the console
// and, with debug mode on, to the category files; it adds the typed helpers
// of the debug logger API. Plain slog calls and the helpers end in the same
// files: logger.With("category", "provisioning").Debug(...) lands in
// <session>_provisioning.jsonl like LogProvisioning does.
type Logger struct {
	*slog.Logger

	cfg   Config
	files *handler.Handler // nil with debug mode off

	// floor is a level below which no handler takes a record: a typed
	// helper below it returns at once, before building anything.
	floor slog.Level

	// bound holds, per typed helper category, each handler of the fan-out
	// with the category bound, built once. The helpers hand their record to
	// these directly: the same handlers the slog-multi fan-out calls, minus
	// its per-record closure, recover and clone. It is nil for a passive
	// Logger (see Default), which binds on demand.
	bound *[numCategories][]boundHandler
}

// boundHandler is a fan-out child with a category bound. When its level is
// fixed and known (tint's, the category handler's), level holds it and
// Enabled need not be called; otherwise level is noFloor.
type boundHandler struct {
	slog.Handler
	level slog.Level
}

// noFloor makes every helper ask the handlers' Enabled.
const noFloor = slog.Level(math.MinInt)

// New builds the fan-out of the design: a console handler (tint on console
// at cfg.ConsoleLevel, or cfg.Console) and, when cfg.Enabled, the category
// handler at Debug. A nil console means os.Stderr. With debug mode off no
// file is opened and no goroutine is started. The caller must Close the
// Logger to write everything queued.
func New(cfg Config, console io.Writer) (*Logger, error) {
	if console == nil {
		console = os.Stderr
	}
	if cfg.Dir == "" {
		cfg.Dir = DefaultDir
	}
	consoleHandler := cfg.Console
	if consoleHandler == nil {
		consoleHandler = tint.NewHandler(console, &tint.Options{
			Level:       cfg.ConsoleLevel,
			TimeFormat:  "15:04:05.000",
			NoColor:     cfg.NoColor || !isTerminal(console),
			ReplaceAttr: consoleSafety(cfg),
		})
	}
	l := &Logger{cfg: cfg, floor: noFloor}
	children := []slog.Handler{consoleHandler}
	levels := []slog.Level{noFloor}
	if cfg.Console == nil {
		// tint's level is fixed: helpers below it need not ask.
		l.floor = cfg.ConsoleLevel
		levels[0] = cfg.ConsoleLevel
	}
	if cfg.Enabled {
		var detector atomic.Pointer[stress.Handler]
		opts := cfg.handlerOptions()
		opts.SessionAttrs = sessionAttrs(cfg)
		opts.OnError = reportWriteErrors(consoleHandler)
		if !cfg.DisableStress {
			opts.OnDrop = func() {
				if d := detector.Load(); d != nil {
					d.DropsHappened()
				}
			}
		}
		files, err := handler.New(opts)
		if err != nil {
			return nil, fmt.Errorf("slogdebug: debug mode: %w", err)
		}
		l.files = files
		children = append(children, files)
		levels = append(levels, slog.LevelDebug)
		l.floor = min(l.floor, slog.LevelDebug)
		if !cfg.DisableStress {
			sopts := cfg.stressOptions()
			// Events go to the console and the files, never back here.
			sopts.Emit = slogmulti.Fanout(consoleHandler, files)
			sopts.Dropped = files.DroppedByCategory
			d, err := stress.New(sopts)
			if err != nil {
				files.Close()
				return nil, fmt.Errorf("slogdebug: stress detection: %w", err)
			}
			detector.Store(d)
			children = append(children, d)
			levels = append(levels, noFloor)
		}
	}
	l.Logger = slog.New(slogmulti.Fanout(children...))
	var bound [numCategories][]boundHandler
	for i, name := range categoryNames {
		for j, h := range children {
			bh := boundHandler{h.WithAttrs([]slog.Attr{slog.String(handler.CategoryKey, name)}), levels[j]}
			bound[i] = append(bound[i], bh)
		}
	}
	l.bound = &bound
	return l, nil
}

// passive wraps a logger that slogdebug did not build (see Default). Its
// floor is the lowest of the helpers' levels its handler takes now.
func passive(l *slog.Logger) *Logger {
	p := &Logger{Logger: l, floor: slog.LevelError + 1}
	for _, level := range []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelInfo, slog.LevelDebug} {
		if l.Handler().Enabled(context.Background(), level) {
			p.floor = level
		}
	}
	return p
}

// DebugMode reports whether debug mode is on.
func (l *Logger) DebugMode() bool { return l.files != nil }

// Close writes everything queued, appends session_end and closes the
// files. The console keeps working. Close is idempotent; with debug mode
// off it does nothing.
func (l *Logger) Close() error {
	if l.files == nil {
		return nil
	}
	return l.files.Close()
}

// Flush returns once everything logged before it is in the files.
func (l *Logger) Flush() error {
	if l.files == nil {
		return nil
	}
	return l.files.Flush()
}

// SessionID returns the session's ID, or "" with debug mode off.
func (l *Logger) SessionID() string {
	if l.files == nil {
		return ""
	}
	return l.files.SessionID()
}

// Dir returns the directory of the session's files (absolute with debug
// mode on, as configured otherwise).
func (l *Logger) Dir() string {
	if l.files == nil {
		return l.cfg.Dir
	}
	return l.files.Dir()
}

// Path returns the path of a category's file, or "" with debug mode off.
func (l *Logger) Path(category string) string {
	if l.files == nil {
		return ""
	}
	return l.files.Path(category)
}

// Stats returns the category handler's counts (zero with debug mode off).
func (l *Logger) Stats() handler.Stats {
	if l.files == nil {
		return handler.Stats{}
	}
	return l.files.Stats()
}

// emit hands a typed helper's record to every handler that takes it.
func (l *Logger) emit(ctx context.Context, i categoryIndex, r slog.Record) {
	if ctx == nil {
		ctx = context.Background()
	}
	if l.bound == nil {
		h := l.Handler().WithAttrs([]slog.Attr{slog.String(handler.CategoryKey, categoryNames[i])})
		if h.Enabled(ctx, r.Level) {
			handleSafely(ctx, h, r)
		}
		return
	}
	for _, h := range l.bound[i] {
		if h.level != noFloor {
			if r.Level >= h.level {
				handleSafely(ctx, h.Handler, r)
			}
		} else if h.Enabled(ctx, r.Level) {
			handleSafely(ctx, h.Handler, r)
		}
	}
}

// handleSafely calls h.Handle, recovering a panic as slog-multi's fan-out
// does, so one broken handler cannot take the host down.
func handleSafely(ctx context.Context, h slog.Handler, r slog.Record) {
	defer func() { _ = recover() }()
	_ = h.Handle(ctx, r)
}

// reportWriteErrors tells the console, at most once per interval, that the
// debug files could not be written (a full disk, say): the files cannot
// say so themselves.
func reportWriteErrors(console slog.Handler) func(error, uint64, uint64) {
	return func(err error, errs, lost uint64) {
		ctx := context.Background()
		if !console.Enabled(ctx, slog.LevelWarn) {
			return
		}
		r := slog.NewRecord(time.Now(), slog.LevelWarn, "debug mode: writing the debug files failed", 0)
		r.AddAttrs(slog.Any("error", err), slog.Uint64("errors", errs), slog.Uint64("lines_lost", lost))
		handleSafely(ctx, console, r)
	}
}

// consoleSafety keeps the console as safe as the files: a message with a
// newline or an escape sequence cannot forge a line or drive the terminal,
// and secrets are redacted as in the files.
func consoleSafety(cfg Config) func([]string, slog.Attr) slog.Attr {
	red := handler.NewRedactor(cfg.RedactKeys...)
	if cfg.NoRedaction {
		red = nil
	}
	return func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.MessageKey {
			a.Value = slog.StringValue(escapeControl(red.CleanURLs(a.Value.String())))
			return a
		}
		if red.SecretKey(a.Key) {
			return slog.String(a.Key, handler.Redacted)
		}
		switch a.Value.Kind() {
		case slog.KindString:
			a.Value = slog.StringValue(red.CleanURLs(a.Value.String()))
		case slog.KindAny:
			if err, ok := a.Value.Any().(error); ok && err != nil {
				a.Value = slog.StringValue(red.CleanURLs(errorMessage(err)))
			}
		}
		return a
	}
}

// escapeControl writes control characters as Go escapes (\n, \x1b).
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// isTerminal reports whether w is a character device, as a terminal is.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
