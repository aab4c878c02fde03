package slogdebug

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/safeerr"
	"github.com/proxydebug/debugmode/reqid"
)

// recorder is the flight recorder: while debug mode is off it keeps the
// last Config.FlightRecorder of debug records in memory, within
// Config.FlightRecorderBytes; when a stress event fires, the Logger writes
// them to the files, marked recorded_before_trigger, with the event.
type recorder struct {
	window   time.Duration
	maxBytes int

	mu    sync.Mutex
	ring  []flightEntry // a circular buffer: n entries from head, oldest first
	head  int
	n     int
	bytes int
}

// flightEntry is one recorded record, with what it needs to be written
// later as it would have been: the With/WithGroup calls of its logger and
// the request IDs and span of its context.
type flightEntry struct {
	chain *chain
	rec   slog.Record
	ids   *reqid.IDs
	span  trace.SpanContext
	size  int
}

// chain is a logger's WithAttrs/WithGroup calls, outermost first; shared
// by the records of one logger.
type chain struct {
	parent *chain
	attrs  []slog.Attr
	group  string
}

// withAttrs returns c extended by a WithAttrs call (nil for no attrs).
func (c *chain) withAttrs(attrs []slog.Attr) *chain {
	if len(attrs) == 0 {
		return nil
	}
	return &chain{parent: c, attrs: freeze(attrs)}
}

// withGroup returns c extended by a WithGroup call (nil for no name).
func (c *chain) withGroup(name string) *chain {
	if name == "" {
		return nil
	}
	return &chain{parent: c, group: name}
}

// apply replays the chain on h.
func (c *chain) apply(h slog.Handler) slog.Handler {
	if c == nil {
		return h
	}
	h = c.parent.apply(h)
	if c.group != "" {
		return h.WithGroup(c.group)
	}
	return h.WithAttrs(c.attrs)
}

// flightSize is what an entry costs besides its strings.
const flightSize = 320

func (r *recorder) add(e flightEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == len(r.ring) {
		r.grow()
	}
	r.ring[(r.head+r.n)%len(r.ring)] = e
	r.n++
	r.bytes += e.size
	// Forget what is older than the window or over the budget.
	cutoff := e.rec.Time.Add(-r.window)
	for r.n > 1 {
		old := &r.ring[r.head]
		if r.bytes <= r.maxBytes && !old.rec.Time.Before(cutoff) {
			break
		}
		r.bytes -= old.size
		*old = flightEntry{}
		r.head = (r.head + 1) % len(r.ring)
		r.n--
	}
}

// grow doubles the ring, keeping its order.
func (r *recorder) grow() {
	ring := make([]flightEntry, max(2*len(r.ring), 64))
	for i := range r.n {
		ring[i] = r.ring[(r.head+i)%len(r.ring)]
	}
	r.ring, r.head = ring, 0
}

// take returns the recorded entries, oldest first, and forgets them.
func (r *recorder) take() []flightEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]flightEntry, r.n)
	for i := range r.n {
		out[i] = r.ring[(r.head+i)%len(r.ring)]
	}
	r.ring, r.head, r.n, r.bytes = nil, 0, 0, 0
	return out
}

// recordHandler is the slog.Handler that feeds the recorder.
type recordHandler struct {
	r     *recorder
	chain *chain
}

func (h *recordHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelDebug
}

// Handle keeps r, its values frozen now as the category handler would
// write them (see freeze).
func (h *recordHandler) Handle(ctx context.Context, r slog.Record) error {
	r = frozen(r)
	size := flightSize + len(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		size += frozenSize(a)
		return true
	})
	e := flightEntry{chain: h.chain, rec: r, ids: reqid.From(ctx), size: size}
	if ctx != nil {
		e.span = trace.SpanContextFromContext(ctx)
	}
	h.r.add(e)
	return nil
}

func (h *recordHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if c := h.chain.withAttrs(attrs); c != nil {
		return &recordHandler{r: h.r, chain: c}
	}
	return h
}

func (h *recordHandler) WithGroup(name string) slog.Handler {
	if c := h.chain.withGroup(name); c != nil {
		return &recordHandler{r: h.r, chain: c}
	}
	return h
}

// frozen returns a copy of r whose values cannot change any more.
func frozen(r slog.Record) slog.Record {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
	out.AddAttrs(freeze(attrs)...)
	return out
}

// freeze returns attrs with every value that could change after the log
// call captured as the category handler would write it at the call:
// LogValuers resolved, errors as their message, any other Go value as its
// JSON (json.RawMessage, which the handler writes as it is; a value that
// cannot be marshalled, as the failure's text).
func freeze(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: a.Key, Value: freezeValue(a.Value)}
	}
	return out
}

func freezeValue(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		return slog.GroupValue(freeze(v.Group())...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil, json.RawMessage, string:
			return v
		case error:
			return slog.StringValue(safeerr.String(x))
		case []byte:
			return slog.StringValue(string(x))
		case fmt.Stringer:
			if u, ok := x.(*url.URL); ok && u != nil {
				return slog.StringValue(u.String())
			}
		}
		out, err := marshalJSON(v.Any())
		if err != nil {
			return slog.StringValue("!ERROR:" + err.Error())
		}
		return slog.AnyValue(json.RawMessage(out))
	}
	return v
}

// marshalJSON is json.Marshal without HTML escaping, surviving a
// MarshalJSON method that panics.
func marshalJSON(x any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("marshal panicked: %v", r)
		}
	}()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// frozenSize is roughly what a frozen attr costs the recorder.
func frozenSize(a slog.Attr) int {
	n := len(a.Key) + 24
	switch a.Value.Kind() {
	case slog.KindGroup:
		for _, ga := range a.Value.Group() {
			n += frozenSize(ga)
		}
	case slog.KindString:
		n += len(a.Value.String())
	case slog.KindAny:
		if raw, ok := a.Value.Any().(json.RawMessage); ok {
			n += len(raw)
		}
	}
	return n
}

// triggerHandler receives the stress events while debug mode is off: each
// one has the recorded window written to the files, with the event.
type triggerHandler struct {
	l     *Logger
	chain *chain
}

func (h *triggerHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *triggerHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.l.dumpFlight(ctx, h.chain, r)
}

func (h *triggerHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if c := h.chain.withAttrs(attrs); c != nil {
		return &triggerHandler{l: h.l, chain: c}
	}
	return h
}

func (h *triggerHandler) WithGroup(name string) slog.Handler {
	if c := h.chain.withGroup(name); c != nil {
		return &triggerHandler{l: h.l, chain: c}
	}
	return h
}

// dumpFlight writes the recorded window, marked recorded_before_trigger,
// and then the stress event that triggered it, into the session's files
// (opening the session the first time, resuming it after), and closes them
// again: debug mode stays off. It runs on the goroutine whose record fired
// the event.
func (l *Logger) dumpFlight(ctx context.Context, eventChain *chain, event slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.st.Load()
	if l.closed || st.on || st.recorder == nil {
		return nil
	}
	entries := st.recorder.take()
	opts := l.cfg.handlerOptions()
	opts.SessionAttrs = l.sessionAttrs(false)
	opts.OnError = reportWriteErrors(l.console)
	opts.BlockWhenFull = true // a dump must not drop what it was kept for
	if !l.resume(&opts) {
		// A session that a dump begins starts with its earliest record:
		// its first line, the oldest recorded, is at elapsed_seconds 0.
		opts.SessionStart = earliest(entries, event, time.Now())
	}
	files, err := handler.New(opts)
	if err != nil {
		return fmt.Errorf("slogdebug: flight recorder: %w", err)
	}
	marked := files.WithAttrs([]slog.Attr{slog.Bool("recorded_before_trigger", true)})
	byChain := map[*chain]slog.Handler{}
	for _, e := range entries {
		h, ok := byChain[e.chain]
		if !ok {
			h = e.chain.apply(marked)
			byChain[e.chain] = h
		}
		ectx := context.Background()
		if e.ids != nil {
			ectx = reqid.With(ectx, *e.ids)
		}
		if e.span.IsValid() {
			ectx = trace.ContextWithSpanContext(ectx, e.span)
		}
		_ = h.Handle(ectx, e.rec)
	}
	l.exec.annotate(files, &event) // an execution trace snapshot, if on
	_ = eventChain.apply(files).Handle(ctx, event)
	l.session.Store(&sessionFiles{files: files})
	return files.CloseWith("flight_recorder_dump")
}

// earliest returns the time of the oldest of the entries and the event, or
// now if none is older (records without a time are written at the time
// they are written).
func earliest(entries []flightEntry, event slog.Record, now time.Time) time.Time {
	t := now
	for _, e := range entries {
		if !e.rec.Time.IsZero() && e.rec.Time.Before(t) {
			t = e.rec.Time
		}
	}
	if !event.Time.IsZero() && event.Time.Before(t) {
		t = event.Time
	}
	return t
}
