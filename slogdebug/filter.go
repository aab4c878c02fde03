package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
)

// catFilter passes uncategorized records, and category records at min and
// above of a selected category (sel; nil: all).
type catFilter struct {
	next slog.Handler
	min  slog.Level
	sel  *selection
	cat  string // the category bound (the last one wins), or ""
}

func selectCategories(h slog.Handler, sel *selection) slog.Handler {
	if sel == nil {
		return h
	}
	return &catFilter{next: h, min: noFloor, sel: sel}
}

func (h *catFilter) passes(cat string, level slog.Level) bool {
	return level >= h.min && h.sel.selected(cat)
}

func (h *catFilter) Enabled(ctx context.Context, level slog.Level) bool {
	if h.cat != "" && !h.passes(h.cat, level) {
		return false
	}
	return h.next.Enabled(ctx, level)
}

func (h *catFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min || h.sel != nil { // else no need to look for a category
		if cat := category.InRecord(h.cat, r); cat != "" && !h.passes(cat, r.Level) {
			return nil
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *catFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &catFilter{next: h.next.WithAttrs(attrs), min: h.min, sel: h.sel, cat: category.Bound(h.cat, attrs)}
}

func (h *catFilter) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &catFilter{next: h.next.WithGroup(name), min: h.min, sel: h.sel, cat: h.cat}
}

type selection struct {
	only  bool
	names map[string]bool
}

// newSelection reads Config.Categories (nil: all) and OrchestratorCalls
// (calls), and what is wrong with the categories.
func newSelection(spec []string, calls bool) (s *selection, wrong []string) {
	s = &selection{names: map[string]bool{}}
	kinds := map[bool]bool{} // the kinds of items seen: to write, to leave out
	for _, item := range spec {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, out := strings.CutPrefix(item, "-")
		name = strings.TrimSpace(name)
		s.only, s.names[name], kinds[out] = !out, true, true
		if name == category.Session {
			wrong = append(wrong, fmt.Sprintf("categories other than %q (its file is always written)", name))
		} else if want := checkCategoryName(name); want != "" {
			wrong = append(wrong, fmt.Sprintf("%s (in %s)", want, quote(item)))
		}
	}
	if len(kinds) == 2 {
		wrong = append(wrong, "either the categories to write (requests,errors) or those to leave out, each with a leading - (-orchestrator_calls), not both")
	}
	// orchestrator_calls, unless named, is written only when asked for.
	if _, named := s.names[category.OrchestratorCalls]; !named && s.only == calls {
		s.names[category.OrchestratorCalls] = true
	}
	if len(s.names) == 0 {
		return nil, wrong
	}
	return s, wrong
}

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
