package slogdebug

import (
	"log/slog"
	"os"
	"sync/atomic"
)

// defaultLogger is the documented global default, set by Init.
var defaultLogger atomic.Pointer[Logger]

// Init builds a Logger from cfg with the console on os.Stderr and makes it
// the package default and slog's default (see LogConsole), closing the
// previous default made by Init. Call Close before exiting.
func Init(cfg Config) (*Logger, error) {
	if old := defaultLogger.Load(); old != nil && old.exec != nil && cfg.ExecutionTrace > 0 {
		old.exec.close() // a process runs one execution trace recorder
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

// Default returns the Logger made by Init, or one over slog.Default().
func Default() *Logger {
	if l := defaultLogger.Load(); l != nil {
		return l
	}
	return passive(slog.Default())
}

// Flush flushes the default Logger.
func Flush() error { return Default().Flush() }

// Close closes the default Logger.
func Close() error { return Default().Close() }
