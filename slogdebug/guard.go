package slogdebug

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/proxydebug/debugmode/internal/safego"
)

// guard is a handler of the fan-out under a recover: the one place where
// the fan-out's panics are caught and counted (Stats.Panics, session_end).
type guard struct {
	slog.Handler
	c *core
}

// guarded wraps h in a guard counting into l's core.
func (l *Logger) guarded(h slog.Handler) slog.Handler { return guard{h, l.core} }

func (g guard) Handle(ctx context.Context, r slog.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = g.recovered(p)
		}
	}()
	return g.Handler.Handle(ctx, r)
}

func (g guard) WithAttrs(attrs []slog.Attr) (h slog.Handler) {
	defer func() {
		if p := recover(); p != nil {
			_ = g.recovered(p)
			h = g // the attributes are left out
		}
	}()
	return guard{g.Handler.WithAttrs(attrs), g.c}
}

func (g guard) WithGroup(name string) slog.Handler {
	return guard{g.Handler.WithGroup(name), g.c}
}

// recovered counts a recovered panic and describes it.
func (g guard) recovered(p any) error {
	g.c.panics.Add(1)
	return fmt.Errorf("slogdebug: a handler panicked; recovered: %w", safego.Recovered(p))
}
