package slogdebug

import (
	"context"
	"log/slog"
	"strings"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
)

// Two filters sit in the fan-out. The console filter keeps the debug
// records of the categories (what the files are for) off a console at
// Debug, unless Config.ConsoleCategories asks for them. The category
// selection (Config.Categories, DEBUG_CATEGORIES) keeps the categories not
// selected out of the files, the stress detector and the flight recorder.
// Both decide once for a logger with a category bound (logger.With(
// "category", ...)): such a logger's Enabled says no, and a record it
// would not write costs nothing to build.

// consoleFilter passes a console the records without a category, and
// those with one at Info and above (stress events, the program's own Info
// lines with a category); the typed helpers' Debug records and those of
// logger.With("category", ...).Debug stay in the files.
type consoleFilter struct {
	next   slog.Handler
	hasCat bool // a category is bound
}

func (h *consoleFilter) Enabled(ctx context.Context, level slog.Level) bool {
	if h.hasCat && level < slog.LevelInfo {
		return false
	}
	return h.next.Enabled(ctx, level)
}

func (h *consoleFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		if h.hasCat {
			return nil
		}
		if category.InRecord("", r) != "" {
			return nil
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *consoleFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &consoleFilter{next: h.next.WithAttrs(attrs), hasCat: h.hasCat || category.Bound("", attrs) != ""}
}

func (h *consoleFilter) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &consoleFilter{next: h.next.WithGroup(name), hasCat: h.hasCat}
}

// selection is the categories that are written: those named (only), or
// all but those named (!only). Names are as the files name categories.
type selection struct {
	only  bool
	names map[string]bool
}

// newSelection reads Config.Categories, checked by Validate: nil selects
// every category.
func newSelection(spec []string) *selection {
	s := &selection{names: map[string]bool{}}
	for _, item := range spec {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, out := strings.CutPrefix(item, "-")
		s.only = !out
		s.names[strings.TrimSpace(name)] = true
	}
	if len(s.names) == 0 {
		return nil
	}
	return s
}

// selected reports whether records of category cat (as a record carries
// it) are written.
func (s *selection) selected(cat string) bool {
	if s == nil || cat == category.Session {
		return true
	}
	named, ok := s.names[cat]
	if !ok {
		named = s.names[handler.SanitizeCategory(cat)]
	}
	return named == s.only
}

// selectHandler passes next the records of the selected categories, and
// those without a category.
type selectHandler struct {
	next slog.Handler
	sel  *selection
	cat  string // the category bound, or ""
}

// selectCategories wraps h in a selectHandler, unless every category is
// selected.
func selectCategories(h slog.Handler, sel *selection) slog.Handler {
	if sel == nil {
		return h
	}
	return &selectHandler{next: h, sel: sel}
}

func (h *selectHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if h.cat != "" && !h.sel.selected(h.cat) {
		return false // a record of its own category may still be selected: Handle decides
	}
	return h.next.Enabled(ctx, level)
}

func (h *selectHandler) Handle(ctx context.Context, r slog.Record) error {
	if cat := category.InRecord(h.cat, r); cat != "" && !h.sel.selected(cat) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs binds the category attrs name (the last one wins, as in the
// category handler), deciding nothing yet: a later binding may name a
// selected one.
func (h *selectHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &selectHandler{next: h.next.WithAttrs(attrs), sel: h.sel, cat: category.Bound(h.cat, attrs)}
}

func (h *selectHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &selectHandler{next: h.next.WithGroup(name), sel: h.sel, cat: h.cat}
}
