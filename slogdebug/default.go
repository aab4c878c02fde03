package slogdebug

import (
	"log/slog"
	"os"
	"sync/atomic"
)

// defaultLogger is the documented global default, set by Init.
var defaultLogger atomic.Pointer[Logger]

// Init builds a Logger from cfg with the console on os.Stderr, makes it the
// package default and slog's default (slog.SetDefault), so the program's
// existing slog.Info(...) calls keep their console output and
// slog.With("category", "provisioning") lands in the category files. A
// previous default made by Init is closed. Call Close before exiting.
//
// slog.SetDefault also sends package log's output (log.Printf) through the
// Logger. A console that writes through package log — slog's default
// handler, as Config.Console — would lead back into the Logger; see
// Config.Console and LogConsole.
func Init(cfg Config) (*Logger, error) {
	if old := defaultLogger.Load(); old != nil && old.exec != nil && cfg.ExecutionTrace > 0 {
		// A process runs one execution trace recorder: the previous
		// default stops its own (it is closed below anyway) so that the
		// new one can start; its snapshot being written, if any, is
		// finished first.
		old.exec.close()
	}
	l, err := New(cfg, os.Stderr)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(l.Logger)
	if old := defaultLogger.Swap(l); old != nil {
		if err := old.Close(); err != nil {
			l.Warn("slogdebug: closing the previous default logger", "error", err)
		}
	}
	return l, nil
}

// Default returns the Logger made by Init. Before Init it returns a Logger
// with debug mode off over slog.Default(), so the typed helpers are safe to
// call from anywhere at any time.
func Default() *Logger {
	if l := defaultLogger.Load(); l != nil {
		return l
	}
	return passive(slog.Default())
}

// Flush flushes the default Logger.
func Flush() error { return Default().Flush() }

// Close closes the default Logger: everything queued is written and the
// session ends. slog's default keeps logging to the console.
func Close() error { return Default().Close() }
