package slogdebug

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/jsonenc"
	"github.com/proxydebug/debugmode/internal/safeerr"
	"github.com/proxydebug/debugmode/reqid"
)

type recorder struct {
	window   time.Duration
	maxBytes int
	span     func(context.Context) ([16]byte, [8]byte, bool) // Config.SpanFromContext

	mu      sync.Mutex
	entries []flightEntry // oldest first
	bytes   int
}

type flightEntry struct {
	chain   *chain
	rec     slog.Record
	ids     *reqid.IDs
	trace   [16]byte // the span SpanFromContext read, if spanned
	span    [8]byte
	spanned bool
	size    int
}

func newEntry(ctx context.Context, span func(context.Context) ([16]byte, [8]byte, bool), c *chain, r slog.Record) flightEntry {
	e := flightEntry{chain: c, rec: frozen(r), ids: reqid.From(ctx)}
	if ctx != nil && span != nil {
		e.trace, e.span, e.spanned = span(ctx)
	}
	return e
}

// context is the record's context as the files read it (Config.stamp):
// its request's IDs, and the span SpanFromContext read when it was logged.
func (e *flightEntry) context() context.Context {
	ctx := context.Background()
	if e.ids != nil {
		ctx = reqid.With(ctx, *e.ids)
	}
	if e.spanned {
		ctx = context.WithValue(ctx, keptSpanKey{}, keptSpan{e.trace, e.span})
	}
	return ctx
}

// keptSpanKey is the context key of a dumped record's keptSpan (zero-size:
// looking it up allocates nothing).
type keptSpanKey struct{}

// keptSpan is a dumped record's span, read when it was logged.
type keptSpan struct {
	trace [16]byte
	span  [8]byte
}

// chain is a logger's WithAttrs/WithGroup calls: the last, its parent those before.
type chain struct {
	parent *chain
	attrs  []slog.Attr
	group  string
}

// category is the last category the calls bound, or "".
func (c *chain) category() string {
	for ; c != nil; c = c.parent {
		if cat := category.Bound("", c.attrs); cat != "" {
			return cat
		}
	}
	return ""
}

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

type chainHandler struct {
	min    slog.Level
	chain  *chain
	handle func(context.Context, *chain, slog.Record)
}

func (h *chainHandler) Enabled(_ context.Context, level slog.Level) bool { return level >= h.min }

func (h *chainHandler) Handle(ctx context.Context, r slog.Record) error {
	h.handle(ctx, h.chain, r)
	return nil
}

func (h *chainHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &chainHandler{min: h.min, chain: &chain{parent: h.chain, attrs: freeze(attrs)}, handle: h.handle}
}

func (h *chainHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &chainHandler{min: h.min, chain: &chain{parent: h.chain, group: name}, handle: h.handle}
}

const flightSize = 320 // what an entry costs besides its strings

// record keeps rec, forgetting what is older than the window or over the budget.
func (r *recorder) record(ctx context.Context, c *chain, rec slog.Record) {
	e := newEntry(ctx, r.span, c, rec)
	e.size = flightSize + len(e.rec.Message)
	e.rec.Attrs(func(a slog.Attr) bool { e.size += frozenSize(a); return true })
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
	r.bytes += e.size
	cutoff := e.rec.Time.Add(-r.window)
	for len(r.entries) > 1 && (r.bytes > r.maxBytes || r.entries[0].rec.Time.Before(cutoff)) {
		r.bytes -= r.entries[0].size
		r.entries[0] = flightEntry{} // for the collector, until append moves the rest
		r.entries = r.entries[1:]
	}
}

func (r *recorder) take() []flightEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.entries
	r.entries, r.bytes = nil, 0
	return out
}

func frozen(r slog.Record) slog.Record {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(slog.Attr{Key: a.Key, Value: freezeValue(a.Value)}); return true })
	return out
}

// freeze captures mutable values as the files would write them.
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
		out, err := jsonenc.Marshal(v.Any())
		if err != nil {
			return slog.StringValue(jsonenc.MarshalFailure(err))
		}
		return slog.AnyValue(json.RawMessage(out))
	}
	return v
}

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

// dumper writes the flight recorder's dumps on its own goroutine: per event,
// the records kept (recorded_before_trigger), then the event; the files
// close after flightIdle without an event.
type dumper struct {
	l       *Logger
	rec     *recorder
	jobs    chan flightEntry   // the stress events
	flushes chan chan struct{} // Logger.Flush
	files   *handler.Handler   // open, the run goroutine's
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

const (
	flightIdle = 30 * time.Second // how long the files stay open after an event
	dumpQueue  = 64               // the events waiting; past it, an event is on the console only
)

func (l *Logger) startDumper(rec *recorder) *dumper {
	d := &dumper{l: l, rec: rec, jobs: make(chan flightEntry, dumpQueue),
		flushes: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

// trigger queues an event; it never blocks.
func (d *dumper) trigger(ctx context.Context, c *chain, r slog.Record) {
	select {
	case d.jobs <- newEntry(ctx, d.l.cfg.SpanFromContext, c, r):
	default:
	}
}

func (d *dumper) flush() {
	reply := make(chan struct{})
	select {
	case d.flushes <- reply:
		<-reply
	case <-d.done:
	}
}

func (d *dumper) close() {
	d.once.Do(func() { close(d.stop) })
	<-d.done
}

func (d *dumper) run() {
	defer close(d.done)
	idle := time.NewTimer(flightIdle)
	idle.Stop()
	defer d.closeFiles()
	for {
		select {
		case job := <-d.jobs:
			d.dump(job)
			idle.Reset(flightIdle)
		case reply := <-d.flushes:
			d.drain()
			if d.files != nil {
				_ = d.files.Flush()
			}
			close(reply)
		case <-idle.C:
			d.closeFiles()
		case <-d.stop:
			d.drain()
			return
		}
	}
}

func (d *dumper) closeFiles() {
	if d.files != nil {
		_ = d.files.CloseWith("flight_recorder_dump")
		d.files = nil
	}
}

func (d *dumper) drain() {
	for {
		select {
		case job := <-d.jobs:
			d.dump(job)
		default:
			return
		}
	}
}

// dump writes the records kept and the event; a panic is recovered and counted.
func (d *dumper) dump(job flightEntry) {
	l := d.l
	defer func() {
		if p := recover(); p != nil {
			l.panics.Add(1)
		}
	}()
	entries := d.rec.take()
	if d.files == nil {
		opts := l.fileOptions()
		opts.SessionAttrs = l.sessionAttrs(false)
		opts.BlockWhenFull = true // a dump must not drop what it was kept for
		if opts.Resume == nil {
			// A session a dump begins starts with its earliest record.
			opts.SessionStart = earliest(entries, job.rec, time.Now())
		}
		files, err := handler.New(opts)
		if err != nil {
			l.writeFailed(fmt.Errorf("slogdebug: flight recorder: %w", err), 1, uint64(len(entries)+1))
			return
		}
		d.files = files
		l.session.Store(files)
	}
	files := d.files
	marked := files.WithAttrs([]slog.Attr{slog.Bool("recorded_before_trigger", true)})
	byChain := map[*chain]slog.Handler{}
	for _, e := range entries {
		h, ok := byChain[e.chain]
		if !ok {
			h = e.chain.apply(marked)
			byChain[e.chain] = h
		}
		_ = h.Handle(e.context(), e.rec)
	}
	_ = job.chain.apply(annotated{files, l.exec, nil, files}).Handle(job.context(), job.rec) // an execution trace snapshot, if on
}

func earliest(entries []flightEntry, event slog.Record, now time.Time) time.Time {
	for _, e := range append(entries[:len(entries):len(entries)], flightEntry{rec: event}) {
		if !e.rec.Time.IsZero() && e.rec.Time.Before(now) {
			now = e.rec.Time
		}
	}
	return now
}
