package slogdebug

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
)

// switchHandler is a Logger's handler: it hands each record to the Logger's
// current set-up, so that the program's loggers — slog's default, and
// every logger derived with With and WithGroup — follow debug mode being
// switched at run time.
type switchHandler struct {
	l   *Logger
	ops []func(slog.Handler) slog.Handler // the WithAttrs and WithGroup calls, in order
	// rebinds is set when one of ops binds a category of its own: the
	// typed helpers' records go to it, not to theirs.
	rebinds bool
	// cache holds ops applied to the set-up they were applied to.
	cache atomic.Pointer[resolved]
	// cats holds, for the typed helpers of a derived Logger, ops applied to
	// each category's bound handlers of a set-up, built on first use.
	cats atomic.Pointer[boundCache]
}

// boundCache is a derived Logger's bound handlers for one set-up.
type boundCache struct {
	st *state
	hs [numCategories]atomic.Pointer[boundSet]
}

// boundFor returns the handlers a typed helper of category i hands its
// record to: st's, with the category bound first and then ops, so that the
// category stays outside any group.
func (s *switchHandler) boundFor(st *state, i categoryIndex) *boundSet {
	c := s.cats.Load()
	if c == nil || c.st != st {
		c = &boundCache{st: st}
		s.cats.Store(c) // two goroutines may both build one: either does
	}
	if set := c.hs[i].Load(); set != nil {
		return set
	}
	base := &st.bound[i]
	set := &boundSet{hs: make([]boundHandler, len(base.hs))}
	for j, bh := range base.hs {
		h := bh.Handler
		for _, op := range s.ops {
			h = op(h)
		}
		set.hs[j] = boundHandler{h, bh.level}
	}
	if base.fast != nil {
		set.fast = fastPathOf(set.hs, base.fast.schema)
	}
	c.hs[i].Store(set)
	return set
}

type resolved struct {
	st *state
	h  slog.Handler
}

// current returns the handler for the current set-up, building and caching
// it on the first record after a switch.
func (s *switchHandler) current() slog.Handler {
	st := s.l.st.Load()
	if c := s.cache.Load(); c != nil && c.st == st {
		return c.h
	}
	h := st.root
	for _, op := range s.ops {
		h = op(h)
	}
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
	attrs = slices.Clone(attrs)
	d := s.with(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
	if _, ok := boundCategory(attrs); ok {
		d.rebinds = true
	}
	return d
}

func (s *switchHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return s
	}
	return s.with(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (s *switchHandler) with(op func(slog.Handler) slog.Handler) *switchHandler {
	return &switchHandler{l: s.l, ops: append(slices.Clip(s.ops), op), rebinds: s.rebinds}
}
