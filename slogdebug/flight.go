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
// one is handed to the dumper, which writes the recorded window to the
// files, with the event, on its own goroutine.
type triggerHandler struct {
	d     *dumper
	chain *chain
}

func (h *triggerHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *triggerHandler) Handle(ctx context.Context, r slog.Record) error {
	h.d.trigger(ctx, h.chain, r)
	return nil
}

func (h *triggerHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if c := h.chain.withAttrs(attrs); c != nil {
		return &triggerHandler{d: h.d, chain: c}
	}
	return h
}

func (h *triggerHandler) WithGroup(name string) slog.Handler {
	if c := h.chain.withGroup(name); c != nil {
		return &triggerHandler{d: h.d, chain: c}
	}
	return h
}

// dumper writes the flight recorder's dumps on a goroutine of its own, so
// that the request whose record fired a stress event does not wait for
// the disk. The first event opens the session's files (the session
// begins, or resumes) and writes the recorded window, marked
// recorded_before_trigger, then the event; the files stay open while
// events follow, each writing what was recorded since, and close, marked
// flight_recorder_dump, once flightIdle passes without one: at most one
// session opened and closed per flightIdle, whatever the rate of events.
type dumper struct {
	l    *Logger
	rec  *recorder
	jobs chan dumpJob
	// flushes asks for the events queued to be written and the files
	// flushed: Logger.Flush.
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// dumpJob is a stress event waiting for the dumper.
type dumpJob struct {
	chain *chain
	event slog.Record
	ids   *reqid.IDs
	span  trace.SpanContext
}

// flightIdle is how long the dumper keeps the files open after an event.
const flightIdle = 30 * time.Second

// dumpQueue bounds the events waiting for the dumper; past it an event is
// written to the console only (stress detection's own console line).
const dumpQueue = 64

// startDumper starts the dumper of a set-up with the flight recorder on.
func (l *Logger) startDumper(rec *recorder) *dumper {
	d := &dumper{l: l, rec: rec, jobs: make(chan dumpJob, dumpQueue),
		flushes: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

// trigger queues an event; it never blocks.
func (d *dumper) trigger(ctx context.Context, c *chain, r slog.Record) {
	job := dumpJob{chain: c, event: frozen(r), ids: reqid.From(ctx)}
	if ctx != nil {
		job.span = trace.SpanContextFromContext(ctx)
	}
	select {
	case d.jobs <- job:
	default:
	}
}

// flush returns once the events queued before it are in the files.
func (d *dumper) flush() {
	reply := make(chan struct{})
	select {
	case d.flushes <- reply:
		<-reply
	case <-d.done:
	}
}

// close stops the dumper, writing the events queued and closing the files:
// the Logger calls it before it switches debug mode or closes, so that the
// session's files have one writer at a time.
func (d *dumper) close() {
	d.once.Do(func() { close(d.stop) })
	<-d.done
}

func (d *dumper) run() {
	defer close(d.done)
	var files *handler.Handler
	idle := time.NewTimer(flightIdle)
	idle.Stop()
	defer func() {
		if files != nil {
			_ = files.CloseWith("flight_recorder_dump")
		}
	}()
	for {
		select {
		case job := <-d.jobs:
			files = d.dump(files, job)
			idle.Reset(flightIdle)
		case reply := <-d.flushes:
			files = d.drain(files)
			if files != nil {
				_ = files.Flush()
			}
			close(reply)
		case <-idle.C:
			if files != nil {
				_ = files.CloseWith("flight_recorder_dump")
				files = nil
			}
		case <-d.stop:
			files = d.drain(files)
			return
		}
	}
}

// drain writes the events queued.
func (d *dumper) drain(files *handler.Handler) *handler.Handler {
	for {
		select {
		case job := <-d.jobs:
			files = d.dump(files, job)
		default:
			return files
		}
	}
}

// dump writes what was recorded since the last dump and the event, opening
// the files first when they are not open. A panic is recovered and counted
// (the dumper is the library's goroutine).
func (d *dumper) dump(files *handler.Handler, job dumpJob) (out *handler.Handler) {
	l := d.l
	out = files
	defer func() {
		if p := recover(); p != nil {
			l.panics.Add(1)
		}
	}()
	entries := d.rec.take()
	if files == nil {
		opts := l.cfg.handlerOptions()
		opts.SessionAttrs = l.sessionAttrs(false)
		opts.OnError = reportWriteErrors(l.guarded(l.console))
		opts.BlockWhenFull = true // a dump must not drop what it was kept for
		if opts.Resume = l.session.Load(); opts.Resume == nil {
			// A session that a dump begins starts with its earliest record:
			// its first line, the oldest recorded, is at elapsed_seconds 0.
			opts.SessionStart = earliest(entries, job.event, time.Now())
		}
		var err error
		if files, err = handler.New(opts); err != nil {
			reportWriteErrors(l.guarded(l.console))(fmt.Errorf("slogdebug: flight recorder: %w", err), 1, uint64(len(entries)+1))
			return nil
		}
		out = files
		l.session.Store(files)
	}
	marked := files.WithAttrs([]slog.Attr{slog.Bool("recorded_before_trigger", true)})
	byChain := map[*chain]slog.Handler{}
	for _, e := range entries {
		h, ok := byChain[e.chain]
		if !ok {
			h = e.chain.apply(marked)
			byChain[e.chain] = h
		}
		_ = h.Handle(entryContext(e.ids, e.span), e.rec)
	}
	l.exec.annotate(files, &job.event) // an execution trace snapshot, if on
	_ = job.chain.apply(files).Handle(entryContext(job.ids, job.span), job.event)
	return out
}

// entryContext is a context with a recorded record's request IDs and span.
func entryContext(ids *reqid.IDs, span trace.SpanContext) context.Context {
	ctx := context.Background()
	if ids != nil {
		ctx = reqid.With(ctx, *ids)
	}
	if span.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, span)
	}
	return ctx
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
