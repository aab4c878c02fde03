package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/internal/stressevent"
)

// switchHandler hands each record to the Logger's current set-up.
type switchHandler struct {
	l       *Logger
	program bool   // slog's default after Init: state.program, not root
	cat     string // a typed helper's category, bound before the calls
	calls   *chain // the WithAttrs and WithGroup calls
	cache   atomic.Pointer[resolved]
}

type resolved struct {
	st *state
	h  slog.Handler // st.root with cat and the calls applied
}

func (s *switchHandler) current() slog.Handler {
	st := s.l.st.Load()
	if c := s.cache.Load(); c != nil && c.st == st {
		return c.h
	}
	h := st.root
	if s.program {
		h = st.program
	}
	if s.cat != "" {
		h = h.WithAttrs([]slog.Attr{slog.String(category.Key, s.cat)})
	}
	h = s.calls.apply(h)
	s.cache.Store(&resolved{st: st, h: h})
	return h
}

func (s *switchHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return s.current().Enabled(ctx, level)
}

func (s *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	return s.current().Handle(ctx, r)
}

func (s *switchHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return s
	}
	return &switchHandler{l: s.l, program: s.program, cat: s.cat, calls: &chain{parent: s.calls, attrs: slices.Clone(attrs)}}
}

func (s *switchHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return s
	}
	return &switchHandler{l: s.l, program: s.program, cat: s.cat, calls: &chain{parent: s.calls, group: name}}
}

func (s *switchHandler) withCategory(name string) *switchHandler {
	return &switchHandler{l: s.l, program: s.program, cat: name, calls: s.calls}
}

// StallThreshold is the stall threshold of the current set-up, 0 when
// stress detection is off or stalls are not watched: integration's
// CopyStream asks it (stressevent.StallSource), so that
// DEBUG_STRESS_STALL needs no exported name.
func (s *switchHandler) StallThreshold() time.Duration {
	if s.l.st.Load().stress == nil {
		return 0
	}
	return s.l.cfg.stall()
}

var _ stressevent.StallSource = (*switchHandler)(nil)

// guard is where the fan-out's panics are recovered and counted.
type guard struct {
	slog.Handler
	c *core
}

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

func (g guard) recovered(p any) error {
	g.c.panics.Add(1)
	return fmt.Errorf("slogdebug: a handler panicked; recovered: %w", safego.Recovered(p))
}
