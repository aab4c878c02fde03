package slogdebug

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/proxydebug/debugmode/internal/safego"
)

// fanout hands each record to every handler that takes its level: the
// console, the files, the stress detector, the flight recorder. A handler
// that panics is recovered (one broken handler cannot take the host
// down, nor keep a record from the others); the others' errors are joined.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, level slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, level) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			// Clone clips the attributes: what one handler adds to its
			// copy cannot reach another's. It allocates nothing.
			c := r.Clone()
			if err := handleRecovering(ctx, h, &c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return f
	}
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	if name == "" {
		return f
	}
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// handleRecovering calls h.Handle with *r, returning a panic as an error
// (with where it happened). It takes the record by pointer: a record is
// large, and h.Handle copies it anyway.
func handleRecovering(ctx context.Context, h slog.Handler, r *slog.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("slogdebug: a handler panicked; recovered: %w", safego.Recovered(p))
		}
	}()
	return h.Handle(ctx, *r)
}
