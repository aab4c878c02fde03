package slogdebug

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/lmittmann/tint"
	slogmulti "github.com/samber/slog-multi"

	"github.com/proxydebug/debugmode/handler"
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

	// byCategory holds the root handler with each typed helper's category
	// bound, built once so a helper binds nothing per call. It is nil for a
	// passive Logger (see Default), which binds on demand.
	byCategory *[numCategories]slog.Handler
}

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
			Level:      cfg.ConsoleLevel,
			TimeFormat: "15:04:05.000",
			NoColor:    cfg.NoColor || !isTerminal(console),
		})
	}
	l := &Logger{cfg: cfg}
	root := consoleHandler
	if cfg.Enabled {
		opts := cfg.handlerOptions()
		opts.SessionAttrs = sessionAttrs(cfg)
		files, err := handler.New(opts)
		if err != nil {
			return nil, fmt.Errorf("slogdebug: debug mode: %w", err)
		}
		l.files = files
		root = slogmulti.Fanout(consoleHandler, files)
	}
	l.Logger = slog.New(root)
	var bound [numCategories]slog.Handler
	for i, name := range categoryNames {
		bound[i] = root.WithAttrs([]slog.Attr{slog.String(handler.CategoryKey, name)})
	}
	l.byCategory = &bound
	return l, nil
}

// passive wraps a logger that slogdebug did not build (see Default).
func passive(l *slog.Logger) *Logger {
	return &Logger{Logger: l}
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

// categoryHandler returns the root handler with category i bound.
func (l *Logger) categoryHandler(i categoryIndex) slog.Handler {
	if l.byCategory != nil {
		return l.byCategory[i]
	}
	return l.Handler().WithAttrs([]slog.Attr{slog.String(handler.CategoryKey, categoryNames[i])})
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

// handle sends one record built by a typed helper to h.
func handle(ctx context.Context, h slog.Handler, r slog.Record) {
	if ctx == nil {
		ctx = context.Background()
	}
	_ = h.Handle(ctx, r)
}
