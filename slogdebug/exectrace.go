package slogdebug

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/trace"
	"sync"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/internal/tracefile"
	"github.com/proxydebug/debugmode/reqid"
)

// ExecutionTraceKey names a stress line's snapshot, <session>_execution_trace_001.trace.
const ExecutionTraceKey = "execution_trace"

// ExecutionTraceStats are the execution trace recorder's counts.
type ExecutionTraceStats struct {
	Snapshots uint64 `json:"snapshots"` // asked for, each named on its stress line
	Skipped   uint64 `json:"skipped"`   // events without one: within the cooldown, or one being written
	Failed    uint64 `json:"failed"`    // snapshots not written (said on the console)
}

// LogValue writes the counts as a group, for session_end.
func (s ExecutionTraceStats) LogValue() slog.Value {
	return slog.GroupValue(slog.Uint64("snapshots", s.Snapshots), slog.Uint64("skipped", s.Skipped),
		slog.Uint64("failed", s.Failed))
}

type traceRecorder interface {
	WriteTo(w io.Writer) (int64, error) // a snapshot; one call at a time
	Stop()
}

// ExecutionTraceSupported reports whether the program is built with Go 1.25+.
func ExecutionTraceSupported() bool { return executionTraceSupported }

// execTrace writes a recorder's snapshots, for stress events: the
// execution trace's, or the goroutine profile's (goroutines.go).
type execTrace struct {
	rec      traceRecorder
	kind     tracefile.Kind // its files' names
	what     string         // its name on the console
	cooldown time.Duration
	fileMode os.FileMode
	console  slog.Handler   // where a snapshot that failed is reported
	written  func()         // tests': called after each snapshot, the writer idle
	writing  sync.WaitGroup // the snapshot being written

	mu      sync.Mutex
	closed  bool
	busy    bool          // a snapshot is asked for and not written yet
	idle    chan struct{} // closed when busy ends
	next    time.Time     // no snapshot for an event before this
	session string        // the session of the last snapshot
	n       int           // its number
	stats   ExecutionTraceStats
}

func startExecTrace(cfg Config, console slog.Handler) (*execTrace, error) {
	rec, err := startTraceRecorder(cfg.ExecutionTrace, cmp.Or(cfg.ExecutionTraceBytes, config.DefaultExecutionTraceBytes))
	if err != nil {
		return nil, fmt.Errorf("slogdebug: execution trace: %w", err)
	}
	return &execTrace{rec: rec, kind: tracefile.ExecutionTrace, what: "execution trace",
		cooldown: cmp.Or(cfg.ExecutionTraceCooldown, config.DefaultExecutionTraceCooldown), fileMode: cfg.FileMode, console: console}, nil
}

// snapshot starts a snapshot unless within the cooldown (measured on the
// clock reading now, never on a record's time: a record stamped in the
// future must not mute the snapshots) or one is being written; it returns
// the file's name, or "". It creates the file in the directory files hold
// (one openat), and leaves the writing to a goroutine of its own.
func (e *execTrace) snapshot(files *handler.Handler, event string, now time.Time) string {
	dir, session := files.Dir(), files.SessionID()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ""
	}
	if now.Before(e.next) || e.busy {
		e.stats.Skipped++
		e.mu.Unlock()
		return ""
	}
	if session != e.session {
		// Once per session: a resumed one may have snapshots already.
		e.session, e.n = session, e.kind.Last(dir, session)
	}
	e.n++
	n := e.n
	e.next = now.Add(e.cooldown)
	e.stats.Snapshots++
	e.busy, e.idle = true, make(chan struct{})
	e.writing.Add(1)
	e.mu.Unlock()
	// Created now, while files are surely open: their directory, never a path.
	var f tracefile.File
	var err error
	if p := safego.Call(func() { f, err = tracefile.Create(files, e.kind, n, e.fileMode) }); p != nil {
		err = fmt.Errorf("creating the snapshot panicked; recovered (a bug of debugmode, please report it): %w", p)
	}
	go e.write(f, err, session, event, n)
	return e.kind.Name(session, n)
}

// write runs on its own goroutine; a failure is counted and said on the console.
func (e *execTrace) write(f tracefile.File, err error, session, event string, n int) {
	defer e.writing.Done()
	if err == nil {
		if p := safego.Call(func() { err = e.writeFile(f) }); p != nil {
			_ = f.Discard()
			err = fmt.Errorf("writing the snapshot panicked; recovered (a bug of debugmode, please report it): %w", p)
		}
	}
	if err != nil {
		e.mu.Lock()
		e.stats.Failed++
		e.mu.Unlock()
		say(e.console, slog.LevelWarn, "debug mode: writing the "+e.what+" failed",
			slog.String("file", e.kind.Name(session, n)), slog.String("event_type", event), slog.Any("error", err))
	}
	e.mu.Lock()
	e.busy = false
	close(e.idle)
	e.mu.Unlock()
	if e.written != nil {
		e.written()
	}
}

// writeFile writes one snapshot into f; a file not written whole is removed
// (by write, on a panic).
func (e *execTrace) writeFile(f tracefile.File) (err error) {
	w := bufio.NewWriterSize(f, 256<<10)
	if _, err = e.rec.WriteTo(w); err == nil {
		if err = w.Flush(); err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		return errors.Join(err, f.Discard())
	}
	return f.Close()
}

// wait returns once no snapshot is being written (nil: at once).
func (e *execTrace) wait() {
	if e == nil {
		return
	}
	e.mu.Lock()
	busy, idle := e.busy, e.idle
	e.mu.Unlock()
	if busy {
		<-idle
	}
}

func (e *execTrace) Stats() (s ExecutionTraceStats) {
	if e != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		s = e.stats
	}
	return s
}

// close waits for the snapshot being written and stops the recorder (nil: nothing).
func (e *execTrace) close() {
	if e == nil {
		return
	}
	e.mu.Lock()
	closed := e.closed
	e.closed = true
	e.mu.Unlock()
	if !closed {
		e.writing.Wait()
		e.rec.Stop()
	}
}

// ExecutionTraceStats returns the execution trace recorder's counts.
func (l *Logger) ExecutionTraceStats() ExecutionTraceStats { return l.exec.Stats() }

// annotated asks exec (nil: off) for a snapshot per Warn+ stress event,
// and gor (nil: off) for one per Warn+ event of one record that has none
// yet (the watchdogs of a slow start and a stall take theirs while the
// wait lasts).
type annotated struct {
	slog.Handler
	exec, gor *execTrace
	files     *handler.Handler
}

func (h annotated) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		if h.exec != nil {
			if name := h.exec.snapshot(h.files, r.Message, time.Now()); name != "" {
				r.AddAttrs(slog.String(ExecutionTraceKey, name))
			}
		}
		if h.gor != nil && perRecord(r.Message) && !hasAttr(r, stressevent.GoroutinesKey) {
			if name := h.gor.snapshot(h.files, r.Message, time.Now()); name != "" {
				r.AddAttrs(slog.String(stressevent.GoroutinesKey, name))
			}
		}
	}
	return h.Handler.Handle(ctx, r)
}

func hasAttr(r slog.Record, key string) (found bool) {
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

func (h annotated) WithAttrs(attrs []slog.Attr) slog.Handler {
	return annotated{h.Handler.WithAttrs(attrs), h.exec, h.gor, h.files}
}

func (h annotated) WithGroup(name string) slog.Handler {
	return annotated{h.Handler.WithGroup(name), h.exec, h.gor, h.files}
}

// traceLogHandler mirrors category records into the execution trace as
// runtime/trace.Log events: message and " request_id=<id>".
type traceLogHandler struct {
	red       *redact.Redactor // the files' redaction, for the message: a trace is a file too
	category  string           // bound with WithAttrs
	requestID string           // bound with WithAttrs
	grouped   bool             // a group is open: later attrs are not top-level
}

const requestIDKey = "request_id" // the attribute a record's request ID may be in

func (h traceLogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelDebug && trace.IsEnabled()
}

func (h traceLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if !trace.IsEnabled() {
		return nil
	}
	cat, id := category.InRecord(h.category, r), h.requestID
	if !h.grouped {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == requestIDKey {
				id = a.Value.Resolve().String()
			}
			return true
		})
	}
	if cat == "" {
		return nil // not a category record
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if id == "" {
		if ids := reqid.From(ctx); ids != nil {
			id = ids.RequestID
		}
	}
	msg := h.red.RedactText(r.Message)
	if id != "" {
		msg += " " + requestIDKey + "=" + id
	}
	trace.Log(ctx, cat, msg)
	return nil
}

func (h traceLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.category = category.Bound(h.category, attrs)
	for _, a := range attrs {
		if a.Key == requestIDKey && !h.grouped {
			h.requestID = a.Value.Resolve().String()
		}
	}
	return h
}

func (h traceLogHandler) WithGroup(name string) slog.Handler {
	if name != "" {
		h.grouped = true
	}
	return h
}
