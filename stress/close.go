package stress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// Stats are a Handler's counts per event type.
type Stats map[string]EventStats

// EventStats are the counts of one event type.
type EventStats struct {
	// Events is how many times a rule fired the type.
	Events uint64
	// Suppressed is how many of them the cooldown kept from Files and the
	// Console: they were not written at all (windowed types only). Events -
	// Suppressed were sent to Files.
	Suppressed uint64
	// ConsoleSuppressed is how many of them were sent to Files but kept
	// from the Console by the cooldown (per-record types only).
	ConsoleSuppressed uint64
}

// Stats returns the counts of every event type that has fired, Close's
// line not included. It is safe to call at any time, during and after
// Close.
func (h *Handler) Stats() Stats {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(Stats, len(s.types))
	for typ, ts := range s.types {
		out[typ] = ts.stats
	}
	return out
}

// Add returns the counts of st and o together, per event type: the
// counts of a session whose detectors were replaced (debug mode switched
// off and on again).
func (st Stats) Add(o Stats) Stats {
	out := make(Stats, len(st)+len(o))
	for typ, es := range st {
		out[typ] = es
	}
	for typ, es := range o {
		sum := out[typ]
		sum.Events += es.Events
		sum.Suppressed += es.Suppressed
		sum.ConsoleSuppressed += es.ConsoleSuppressed
		out[typ] = sum
	}
	return out
}

// LogValue writes the counts as a group per event type, in event type
// order: {"slow_request":{"events":8,"suppressed":0,"console_suppressed":7}}.
// The slogdebug facade adds it to session_end as "stress_events".
func (st Stats) LogValue() slog.Value {
	types := make([]string, 0, len(st))
	for typ := range st {
		types = append(types, typ)
	}
	sort.Strings(types)
	groups := make([]slog.Attr, 0, len(types))
	for _, typ := range types {
		es := st[typ]
		groups = append(groups, slog.Group(typ,
			slog.Uint64("events", es.Events),
			slog.Uint64(SuppressedKey, es.Suppressed),
			slog.Uint64(ConsoleSuppressedKey, es.ConsoleSuppressed)))
	}
	return slog.GroupValue(groups...)
}

// Close stops the Handler and writes what the cooldown kept back that no
// later event of its type reported: if there is any, one line of event
// type StressSuppressed, at Info, to Files and the Console, with the counts
// per event type in the groups "suppressed" (windowed events not written
// at all) and "console_suppressed" (per-record events in Files, not shown on
// the Console). With it, the "suppressed" and "console_suppressed" values
// of a type's lines add up to its totals in Stats.
//
// Call Close before closing what Files writes to. After Close the Handler
// observes nothing; Stats keeps its counts. Close is idempotent and safe
// for concurrent use; it returns the error of a target that failed (a
// closed file, say).
func (h *Handler) Close() error {
	s := h.s
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	var suppressed, consoleSuppressed []slog.Attr
	var parts []string
	s.mu.Lock()
	for typ, ts := range s.types {
		if ts.pending == 0 {
			continue
		}
		if windowed(typ) {
			suppressed = append(suppressed, slog.Int(typ, ts.pending))
		} else {
			consoleSuppressed = append(consoleSuppressed, slog.Int(typ, ts.pending))
		}
		ts.pending = 0
	}
	s.mu.Unlock()
	if len(suppressed) == 0 && len(consoleSuppressed) == 0 {
		return nil
	}
	sortAttrs(suppressed)
	sortAttrs(consoleSuppressed)
	if len(consoleSuppressed) > 0 {
		parts = append(parts, "kept from the console (each is a line of its own in the files): "+countList(consoleSuppressed))
	}
	if len(suppressed) > 0 {
		parts = append(parts, "not written at all: "+countList(suppressed))
	}
	r := slog.NewRecord(s.opts.now(), slog.LevelInfo, StressSuppressed, 0)
	r.AddAttrs(
		slog.String("event_type", StressSuppressed),
		slog.String("severity", string(SeverityInfo)),
		slog.String("description", "Held back by the cooldown since the last event of their type, "+strings.Join(parts, "; ")),
	)
	if len(suppressed) > 0 {
		r.AddAttrs(slog.Attr{Key: SuppressedKey, Value: slog.GroupValue(suppressed...)})
	}
	if len(consoleSuppressed) > 0 {
		r.AddAttrs(slog.Attr{Key: ConsoleSuppressedKey, Value: slog.GroupValue(consoleSuppressed...)})
	}
	ctx := context.Background()
	return errors.Join(s.emit(ctx, s.files, r.Clone()), s.emit(ctx, s.console, r))
}

// countList writes counts as "7 slow_request, 2 slow_engine_selection".
func countList(counts []slog.Attr) string {
	var b strings.Builder
	for i, a := range counts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %s", a.Value.Int64(), a.Key)
	}
	return b.String()
}
