package slogdebug

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/proxydebug/debugmode/internal/redact"
)

// slog's default handler writes through package log, which Init points
// back at the Logger (deadlock): logConsole writes to log's writer directly.

var initialDefault = func() slog.Handler {
	if h := slog.Default().Handler(); isSlogDefaultHandler(h) {
		return h
	}
	return nil
}()

func isSlogDefaultHandler(h slog.Handler) bool {
	return h != nil && typeName(h) == "*slog.defaultHandler"
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// LogConsole returns slog's default handler's output without package log:
// use it, not slog.Default().Handler(), in Config.Console.
func LogConsole() slog.Handler { return newLogConsole(initialDefault) }

// logConsole writes as slog's default handler does, without package log.
type logConsole struct {
	levels slog.Handler // slog's default handler, for Enabled; nil: Info
	text   slog.Handler // formats the attrs
	out    *logOutput
}

type logOutput struct {
	mu        sync.Mutex
	logger    *log.Logger // adds the prefix (unless Lmsgprefix), date and time
	flags     int
	msgPrefix string // the prefix, with Lmsgprefix
	head      []byte // the record being written's "LEVEL msg", PC and error
	line      []byte // the line handed to the log.Logger, reused
	pc        uintptr
	err       error
}

func newLogConsole(levels slog.Handler) *logConsole {
	flags, prefix := log.Flags(), log.Prefix()
	out := &logOutput{flags: flags}
	loggerPrefix := prefix
	if flags&log.Lmsgprefix != 0 {
		out.msgPrefix, loggerPrefix = prefix, ""
	}
	// File, line and the message prefix are written here, not by the log.Logger.
	out.logger = log.New(log.Writer(), loggerPrefix, flags&^(log.Lshortfile|log.Llongfile|log.Lmsgprefix))
	return &logConsole{levels: levels, text: slog.NewTextHandler(out, nil), out: out}
}

func (h *logConsole) Enabled(ctx context.Context, level slog.Level) bool {
	if h.levels != nil {
		return h.levels.Enabled(ctx, level)
	}
	return level >= slog.LevelInfo
}

func (h *logConsole) Handle(ctx context.Context, r slog.Record) error {
	o := h.out
	o.mu.Lock()
	defer o.mu.Unlock()
	o.head = append(append(append(o.head[:0], r.Level.String()...), ' '), r.Message...)
	o.pc, o.err = r.PC, nil
	r.Time, r.Message, r.PC = time.Time{}, "", 0
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	return o.err
}

func (h *logConsole) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logConsole{levels: h.levels, text: h.text.WithAttrs(attrs), out: h.out}
}

func (h *logConsole) WithGroup(name string) slog.Handler {
	return &logConsole{levels: h.levels, text: h.text.WithGroup(name), out: h.out}
}

var emptyMsg = []byte(` msg=""`) // what the text handler writes for the empty message

// Write turns the text handler's line into the default handler's (o.mu held).
func (o *logOutput) Write(p []byte) (int, error) {
	attrs := p
	if i := bytes.Index(p, emptyMsg); i >= 0 {
		attrs = p[i+len(emptyMsg):]
	}
	line := o.line[:0]
	if o.flags&(log.Lshortfile|log.Llongfile) != 0 {
		line = appendSource(line, o.pc, o.flags&log.Lshortfile != 0)
	}
	line = append(append(append(line, o.msgPrefix...), o.head...), bytes.TrimSuffix(attrs, []byte{'\n'})...)
	// A view of line, not a copy: Output copies it into its own buffer
	// before it returns, and line is not touched meanwhile (o.mu held).
	o.err = o.logger.Output(0, unsafe.String(unsafe.SliceData(line), len(line)))
	if cap(line) <= 16<<10 { // a larger one is let go
		o.line = line
	}
	return len(p), nil
}

func appendSource(buf []byte, pc uintptr, short bool) []byte {
	file, line := "???", 0
	if pc != 0 {
		f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
		if f.File != "" {
			file = f.File
		}
		line = f.Line
	}
	if i := strings.LastIndexByte(file, '/'); short && i > 0 {
		file = file[i+1:]
	}
	buf = strconv.AppendInt(append(append(buf, file...), ':'), int64(line), 10)
	return append(buf, ": "...)
}

// redactingHandler hands Config.Console its records redacted; a record
// with nothing to redact (the common case), as it is.
type redactingHandler struct {
	slog.Handler
	red    *redact.Redactor
	groups []string // WithGroup names, outermost first
	secret bool     // one of them is a secret key: every value is redacted
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.changes(r) {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, h.red.RedactText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(h.red.RedactAttr(h.groups, a)); return true })
	return h.Handler.Handle(ctx, out)
}

// changes reports whether redacting r may change it.
func (h *redactingHandler) changes(r slog.Record) bool {
	if h.red.RedactText(r.Message) != r.Message {
		return true
	}
	changed := false
	r.Attrs(func(a slog.Attr) bool {
		changed = h.red.Changes(a, h.secret)
		return !changed
	})
	return changed
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	redacted := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		redacted[i] = h.red.RedactAttr(h.groups, a)
	}
	return &redactingHandler{h.Handler.WithAttrs(redacted), h.red, h.groups, h.secret}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	groups := append(slices.Clip(h.groups), name)
	return &redactingHandler{h.Handler.WithGroup(name), h.red, groups, h.secret || h.red.SecretKey(name)}
}
