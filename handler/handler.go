package handler

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"sync"

	categories "github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/jsonenc"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/safego"
)

const (
	requestIDKey = "request_id" // the key the context's request ID is written under
	traceIDKey   = "trace_id"   // and its trace's
)

// Handler is a slog.Handler that persists records carrying a "category"
// attribute (the log call's, else WithAttrs', not inside a slog.Group) to
// <Dir>/<session>_<category>.jsonl. It is safe for concurrent use; derived
// Handlers share the queue, files and writer.
type Handler struct {
	s     *sink
	level slog.Leveler
	cat   *category // bound by WithAttrs; nil if none

	pre    []byte   // preformatted WithAttrs members, each led by a comma
	groups []string // WithGroup names, outermost first
	nOpen  int      // how many of groups pre has opened
	noIDs  bool     // a request_id is bound with WithAttrs: do not stamp the context's
	secret bool     // one of groups is named like a secret: every value inside is redacted
}

// New claims a session in the log directory and starts the writer; the
// caller must Close the handler.
func New(opts Options) (*Handler, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	var earlier Stats
	var paused *pausedAt // what the paused session kept: its locked session file, its directory
	resumed := opts.Resume != nil
	if resumed {
		// Only its counts and what it kept: resumed handlers must not stay alive.
		earlier, paused, opts.Resume = opts.Resume.Stats(), opts.Resume.s.held.Swap(nil), nil
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		paused.close()
		return nil, fmt.Errorf("handler: log directory %q: %w", opts.Dir, err)
	}
	var ld *logDir
	var held *fileState
	if paused != nil && paused.asked == dir {
		ld, held = paused.dir, paused.session // where the session was, whatever the path now names
	} else {
		paused.close()
		if ld, err = openLogDir(dir, opts.DirMode); err != nil {
			return nil, err
		}
	}
	start := opts.SessionStart
	if start.IsZero() {
		start = opts.now()
	}
	s := &sink{
		opts:        opts,
		askedDir:    dir,
		ld:          ld,
		start:       start,
		resumed:     resumed,
		earlier:     earlier,
		reg:         newRegistry(opts.MaxCategories),
		wakeBytes:   min(256<<10, opts.QueueBytes/4),
		warnReserve: max(opts.QueueBytes/4, 4*opts.MaxLineBytes),
		wake:        make(chan struct{}, 1),
		quit:        make(chan struct{}),
		done:        make(chan struct{}),
		roundDone:   make(chan struct{}),
	}
	if !opts.NoRedaction {
		s.red = redact.New(opts.RedactKeys...)
	}
	s.session = s.reg.lookup(sessionCategory)
	if opts.DefaultCategory != "" {
		s.defCat = s.reg.lookup(opts.DefaultCategory)
	}
	base := cmp.Or(opts.SessionID, start.UTC().Format(startTimeLayout))
	if s.repaired, err = repairDeadSessions(ld, opts.MaxLineBytes); err != nil {
		s.noteError(fmt.Errorf("handler: repair the lines a killed process cut: %w", err), 0)
	}
	if err := s.claimSession(base, held); err != nil {
		ld.close()
		return nil, err
	}
	s.header = jsonenc.AppendString([]byte(`{"session_id":`), s.sessionID)
	h := &Handler{s: s, level: opts.Level}
	if err := s.writeSessionStart(); err != nil {
		s.session.file.f.Close()
		ld.close()
		return nil, err
	}
	s.maintain(true)
	go s.run()
	return h, nil
}

// SessionID returns the session's ID, the prefix of its file names.
func (h *Handler) SessionID() string { return h.s.sessionID }

// Dir returns the absolute path of the session's directory.
func (h *Handler) Dir() string { return h.s.ld.path }

// Path returns the path of a category's file (whether or not it exists yet).
func (h *Handler) Path(category string) string {
	return h.s.ld.join(liveName(h.s.sessionID, SanitizeCategory(category)))
}

// Flush returns once everything handled before it is written to the files.
func (h *Handler) Flush() error { return h.s.flush() }

// Close writes what is queued and session_end, then stops; later records
// are dropped and counted. It is idempotent; after CloseWith it lets go of
// the session's lock.
func (h *Handler) Close() error {
	err := h.s.close("session_end", false)
	h.s.releaseHeld()
	return err
}

// CloseWith is Close with another last line, such as debug_disabled: the
// session is paused, and may go on with Options.Resume. Its session file
// stays open and locked, so other processes leave the session alone, until
// Close or the Handler that resumes it.
func (h *Handler) CloseWith(event string) error { return h.s.close(event, true) }

// Enabled reports whether level is at or above the handler's level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool { return level >= h.level.Level() }

// WithAttrs returns a Handler whose records carry attrs ("category" binds).
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	var rest []slog.Attr
	for _, a := range attrs {
		if a.Key != categories.Key {
			rest = append(rest, a)
			// The line's own request_id replaces the context's; one in a group does not clash.
			h2.noIDs = h2.noIDs || a.Key == requestIDKey && len(h.groups) == 0
		} else if c, named := categories.Of(a); named {
			h2.cat = h.s.reg.lookup(c)
		}
	}
	if pre, ok := h.preformat(rest); ok {
		h2.pre = pre
		h2.nOpen = len(h.groups)
	}
	return &h2
}

// preformat encodes attrs after h's own; a panic is recovered and they are
// left out, so a With call never takes the host down.
func (h *Handler) preformat(attrs []slog.Attr) (pre []byte, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			h.s.notePanic(internalError("WithAttrs: encoding the attributes (left out of the lines)", safego.Recovered(v)), 0)
			pre, ok = nil, false
		}
	}()
	if hk := h.s.opts.hooks; hk != nil && hk.beforeWithAttrs != nil {
		hk.beforeWithAttrs(attrs)
	}
	e := encoder{red: h.s.red, buf: slices.Clip(h.pre), start: len(h.pre), limit: math.MaxInt, comma: true, depth: h.nOpen, secret: h.secret, panics: &h.s.panics}
	e.openGroups(h.groups[h.nOpen:])
	return e.buf, e.appendAttrs(attrs)
}

// WithGroup returns a Handler that nests the attrs that follow in a group.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(slices.Clip(h.groups), name)
	h2.secret = h.secret || h.s.red.SecretKey(name)
	return &h2
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle encodes r in the caller's goroutine and queues the line; on a full
// queue it waits for the writer, dropping only past 100 ms (a hung disk).
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	cat, ownID, ownTrace := h.cat, h.noIDs, false // a request_id bound with With replaces the context's
	if r.NumAttrs() > 0 {
		r.Attrs(func(a slog.Attr) bool {
			if c, ok := categories.Of(a); ok {
				cat = h.s.reg.lookup(c)
			} else if len(h.groups) == 0 { // the line's own IDs win; one in a group does not clash
				ownID = ownID || a.Key == requestIDKey
				ownTrace = ownTrace || a.Key == traceIDKey
			}
			return true
		})
	}
	if cat == nil {
		if cat = h.s.defCat; cat == nil {
			return nil
		}
	}
	var st stamp
	if !ownID { // Options.Stamp only for records that are written
		st = h.s.stampOf(ctx)
		if ownTrace { // Middleware's requests line has the request's trace
			st.TraceID, st.SpanID = [16]byte{}, [8]byte{}
		}
	}
	bp := bufPool.Get().(*[]byte)
	line, err := h.encodeSafely((*bp)[:0], &r, cat, st, h.s.opts.MaxLineBytes)
	if err == nil {
		if err = h.s.enqueue(cat.dest, r.Level, line); err == nil && bytes.HasSuffix(line, truncatedEnd) {
			cat.dest.cut.Add(1) // (an attribute named "truncated" is written "fields.truncated")
		}
	} else {
		cat.dest.failed.Add(1)
	}
	if cap(line) <= 16<<10 { // a larger buffer is let go
		*bp = line[:0]
		bufPool.Put(bp)
	}
	if err == nil && h.s.opts.Sync {
		return h.s.flush()
	}
	return err
}

// encode appends r as one line of at most limit bytes (see the package doc).
func (h *Handler) encode(buf []byte, r *slog.Record, cat *category, st stamp, limit int) []byte {
	e := encoder{red: h.s.red, buf: buf, start: len(buf), limit: limit, panics: &h.s.panics}
	e.buf = append(e.buf, h.s.header...)
	t := r.Time
	if !t.IsZero() {
		e.buf = append(appendTimestampCached(append(e.buf, `,"timestamp":"`...), t, &h.s.tsCache), '"')
	} else {
		t = h.s.opts.now()
	}
	e.buf = appendSeconds(append(e.buf, `,"elapsed_seconds":`...), t.Sub(h.s.start))
	e.buf = appendLevel(append(e.buf, `,"level":`...), r.Level)
	e.buf = append(append(e.buf, cat.field...), `,"msg":`...)
	e.appendText(r.Message)
	e.comma = true
	st.append(&e) // leaves e.comma set
	if len(h.pre) > 0 && !e.truncated {
		if len(h.pre) > e.room()-h.nOpen {
			e.truncated = true
		} else {
			e.buf = append(e.buf, h.pre...)
			e.depth = h.nOpen
		}
	}
	open := e.depth
	if r.NumAttrs() > 0 && !e.truncated {
		// Open the groups pre did not; undo them if nothing is written.
		mark, comma := len(e.buf), e.comma
		e.openGroups(h.groups[e.depth:])
		e.secret = h.secret
		wrote := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != categories.Key && e.appendAttr(a) {
				wrote = true
			}
			return !e.truncated
		})
		if wrote {
			open = e.depth
		} else {
			e.buf, e.comma, e.depth = e.buf[:mark], comma, open
		}
	}
	for range open {
		e.buf = append(e.buf, '}')
	}
	if e.truncated {
		return append(e.buf, truncatedEnd...)
	}
	return append(e.buf, '}', '\n')
}

// truncatedEnd ends a line cut at the line limit, and no other.
var truncatedEnd = []byte(`,"truncated":true}` + "\n")

// appendLevel writes a level as slog names it: "DEBUG", "INFO+2".
func appendLevel(buf []byte, l slog.Level) []byte {
	switch l {
	case slog.LevelDebug:
		return append(buf, `"DEBUG"`...)
	case slog.LevelInfo:
		return append(buf, `"INFO"`...)
	case slog.LevelWarn:
		return append(buf, `"WARN"`...)
	case slog.LevelError:
		return append(buf, `"ERROR"`...)
	}
	return jsonenc.AppendString(buf, l.String())
}
