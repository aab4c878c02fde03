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
// above of a selected category (sel; nil: all). The bound category's
// selection is decided once, when it is bound; a record's own category, once
// per record: one catFilter sits before all of debug mode's handlers.
type catFilter struct {
	next      slog.Handler
	min       slog.Level
	sel       *selection
	cat       string // the category bound (the last one wins), or ""
	catSel    bool   // sel selects cat
	dropPlain bool   // uncategorized records are dropped too
	// plainAt, with dropPlain: below Info, an unbound logger is enabled
	// only where it says (the console's levels). slog asks Enabled before a
	// call's attributes exist, and a yes below the console's level made
	// each of the program's own slog.Debug lines pay for a record (its
	// runtime.Callers among it) only to be dropped here: 4.7% of the acexy
	// fork's CPU. So, below it, a call's own category is not seen on an
	// unbound logger: bind it with With. From Info up the console has no
	// say: a quiet console (DEBUG_CONSOLE_LEVEL=error, or none) must not
	// keep a call's category records out of the files.
	plainAt slog.Handler
}

// selectCategories puts a catFilter in front of h, unless it would pass
// everything; plain: h takes uncategorized records (else they are
// dropped before it: with debug mode on, the program's own slog.Debug
// lines would cost a walk through debug mode's handlers for nothing, and
// an unbound logger is enabled below Info only at the console's levels;
// console nil: at h's).
func selectCategories(h slog.Handler, sel *selection, plain bool, console slog.Handler) slog.Handler {
	if sel == nil && plain {
		return h
	}
	f := &catFilter{next: h, min: noFloor, sel: sel, catSel: true, dropPlain: !plain}
	if !plain {
		f.plainAt = console
	}
	return f
}

// Enabled says no below min for a logger bound to a category, and below
// Info where plainAt does for an unbound one; a bound category left out by the
// selection is not refused here, as a record may name a selected one of
// its own (the record's wins): Handle decides. (integration's Transport
// asks Selected first, so that a call costs nothing while
// orchestrator_calls is left out.)
func (h *catFilter) Enabled(ctx context.Context, level slog.Level) bool {
	if h.cat != "" && level < h.min || h.cat == "" && h.plainAt != nil && level < slog.LevelInfo && !h.plainAt.Enabled(ctx, level) {
		return false
	}
	return h.next.Enabled(ctx, level)
}

func (h *catFilter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.min || h.sel != nil || h.dropPlain { // else no need to look for a category
		cat, selected := category.InRecord("", r), h.catSel
		if cat != "" {
			selected = h.sel.selected(cat)
		} else {
			cat = h.cat
		}
		if cat == "" && h.dropPlain || cat != "" && (r.Level < h.min || !selected) {
			return nil
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *catFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	c := *h
	c.next, c.cat = h.next.WithAttrs(attrs), category.Bound(h.cat, attrs)
	if c.cat != h.cat {
		c.catSel = h.sel.selected(c.cat)
	}
	return &c
}

func (h *catFilter) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
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
		// The names are clean (Validate): a clean category needs no second look.
		if clean := handler.SanitizeCategory(cat); clean != cat {
			named = s.names[clean]
		}
	}
	return named == s.only
}

// Selected reports whether the files take category's records now
// (category.Selector).
func (s *switchHandler) Selected(cat string) bool {
	return s.l.st.Load().files != nil && s.l.sel.selected(cat)
}

var _ category.Selector = (*switchHandler)(nil)
