package stress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	ev "github.com/proxydebug/debugmode/internal/stressevent"
)

// Stats are a Handler's counts per event type: fired, "suppressed" and
// "console_suppressed"; session_end writes them.
type Stats struct{ types map[string]counts }

type counts struct{ events, suppressed, consoleSuppressed uint64 }

// Stats returns the counts of every event type that has fired.
func (h *Handler) Stats() Stats {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{types: make(map[string]counts, len(s.types))}
	for typ, ts := range s.types {
		out.types[typ] = ts.counts
	}
	return out
}

// Add returns the counts of st and o together, per event type.
func (st Stats) Add(o Stats) Stats {
	out := Stats{types: make(map[string]counts, len(st.types)+len(o.types))}
	for _, m := range []map[string]counts{st.types, o.types} {
		for typ, c := range m {
			sum := out.types[typ]
			out.types[typ] = counts{sum.events + c.events, sum.suppressed + c.suppressed, sum.consoleSuppressed + c.consoleSuppressed}
		}
	}
	return out
}

// LogValue writes the counts as a group per event type, in event type
// order: {"slow_request":{"events":8,"suppressed":0,"console_suppressed":7}}.
func (st Stats) LogValue() slog.Value {
	groups := make([]slog.Attr, 0, len(st.types))
	for typ, c := range st.types {
		groups = append(groups, slog.Group(typ, slog.Uint64("events", c.events),
			slog.Uint64(ev.SuppressedKey, c.suppressed), slog.Uint64(ev.ConsoleSuppressedKey, c.consoleSuppressed)))
	}
	sortAttrs(groups)
	return slog.GroupValue(groups...)
}

// Close stops the Handler and writes one stress_suppressed line with what
// the cooldown held back unreported. Call it before closing what Files
// writes to; it is idempotent.
func (h *Handler) Close() error {
	s := h.s
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	held := map[string][]slog.Attr{}
	s.mu.Lock()
	for typ, ts := range s.types {
		if ts.pending > 0 {
			held[heldKey(typ)] = append(held[heldKey(typ)], slog.Int(typ, ts.pending))
			ts.pending = 0
		}
	}
	s.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	var parts []string
	var groups []slog.Attr
	for _, g := range []struct{ key, text string }{
		{ev.SuppressedKey, "not written at all: "},
		{ev.ConsoleSuppressedKey, "kept from the console (each is a line of its own in the files): "},
	} {
		if as := held[g.key]; len(as) > 0 {
			sortAttrs(as)
			list := make([]string, len(as)) // "7 slow_request, 2 slow_engine_selection"
			for i, a := range as {
				list[i] = fmt.Sprintf("%d %s", a.Value.Int64(), a.Key)
			}
			parts = append([]string{g.text + strings.Join(list, ", ")}, parts...) // the console's first
			groups = append(groups, slog.Attr{Key: g.key, Value: slog.GroupValue(as...)})
		}
	}
	r := eventRecord(s.opts.Now(), Event{Type: ev.StressSuppressed, Level: slog.LevelInfo, Attrs: groups,
		Description: "Held back by the cooldown since the last event of their type, " + strings.Join(parts, "; ")})
	ctx := context.Background()
	return errors.Join(s.emit(ctx, s.files, r.Clone()), s.emit(ctx, s.console, r))
}
