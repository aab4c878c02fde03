package slogdebug

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// slog's default handler (the one slog.Default() has until slog.SetDefault
// is called) writes through package log; slog.SetDefault, which Init calls,
// points package log back at the new default. Kept as the console, that
// handler would log into the Logger, which would log into the handler, and
// the log package's lock would deadlock the first log call. A Logger
// therefore replaces it by a logConsole: the same lines, written straight
// to where package log wrote when the Logger was made.

// initialDefault is slog's default handler as the process started, when it
// still is slog's own: its Enabled follows slog.SetLogLoggerLevel.
var initialDefault = func() slog.Handler {
	if h := slog.Default().Handler(); isSlogDefaultHandler(h) {
		return h
	}
	return nil
}()

// isSlogDefaultHandler reports whether h is slog's built-in default
// handler, which writes through package log.
func isSlogDefaultHandler(h slog.Handler) bool {
	return h != nil && typeName(h) == "*slog.defaultHandler"
}

// typeName is the dynamic type of v as %T prints it.
func typeName(v any) string { return fmt.Sprintf("%T", v) }

// LogConsole returns a console handler that writes what slog's default
// handler writes ("INFO msg k=v", after package log's prefix, date and time)
// to package log's writer, prefix and flags as they are now, but without
// going through package log. Use it where you would use
// slog.Default().Handler() inside your own Config.Console (a fan-out, a
// filter): after Init, package log leads into the Logger, and a console
// that writes through it deadlocks. New and Init make this replacement
// themselves when Config.Console is slog's default handler itself.
//
// Its level is slog's default handler's (slog.SetLogLoggerLevel; Info).
// Later changes to package log (log.SetOutput, log.SetFlags) do not reach
// it.
func LogConsole() slog.Handler { return newLogConsole(initialDefault) }

// logConsole writes as slog's default handler does, without package log.
type logConsole struct {
	levels slog.Handler // slog's default handler, for Enabled; nil: Info
	text   slog.Handler // formats the attrs as slog's default handler does
	out    *logOutput
}

// logOutput is what the handlers derived from one logConsole share: the
// writer and the line being written.
type logOutput struct {
	mu        sync.Mutex
	logger    *log.Logger // adds the prefix (unless Lmsgprefix), date and time
	flags     int
	msgPrefix string // the prefix, with Lmsgprefix

	// Set under mu for the record being written.
	head []byte // "LEVEL msg"
	pc   uintptr
	err  error
}

// newLogConsole captures package log's output as it is now.
func newLogConsole(levels slog.Handler) *logConsole {
	flags, prefix := log.Flags(), log.Prefix()
	out := &logOutput{flags: flags}
	loggerPrefix := prefix
	if flags&log.Lmsgprefix != 0 {
		out.msgPrefix, loggerPrefix = prefix, ""
	}
	// File and line come from the record, and the message prefix after
	// them: both are written here, not by the log.Logger.
	out.logger = log.New(log.Writer(), loggerPrefix, flags&^(log.Lshortfile|log.Llongfile|log.Lmsgprefix))
	return &logConsole{levels: levels, text: slog.NewTextHandler(out, nil), out: out}
}

func (h *logConsole) Enabled(ctx context.Context, level slog.Level) bool {
	if h.levels != nil {
		return h.levels.Enabled(ctx, level)
	}
	return level >= slog.LevelInfo
}

// Handle writes "LEVEL msg k=v ..." as slog's default handler does: the
// text handler formats the attrs (of a record with no time and no message)
// and Write assembles the line.
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

// emptyMsg is what the text handler writes for the empty message, just
// after the level.
var emptyMsg = []byte(` msg=""`)

// Write receives the text handler's line, `level=INFO msg="" k=v`, with
// o.mu held by Handle, and writes the default handler's line.
func (o *logOutput) Write(p []byte) (int, error) {
	attrs := p
	if i := bytes.Index(p, emptyMsg); i >= 0 {
		attrs = p[i+len(emptyMsg):]
	}
	attrs = bytes.TrimSuffix(attrs, []byte{'\n'})
	var line []byte
	if o.flags&(log.Lshortfile|log.Llongfile) != 0 {
		line = appendSource(line, o.pc, o.flags&log.Lshortfile != 0)
	}
	line = append(line, o.msgPrefix...)
	line = append(line, o.head...)
	line = append(line, attrs...)
	o.err = o.logger.Output(0, string(line))
	return len(p), nil
}

// appendSource writes "file:line: " as package log does.
func appendSource(buf []byte, pc uintptr, short bool) []byte {
	file, line := "???", 0
	if pc != 0 {
		f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
		if f.File != "" {
			file = f.File
		}
		line = f.Line
	}
	if short {
		for i := len(file) - 1; i > 0; i-- {
			if file[i] == '/' {
				file = file[i+1:]
				break
			}
		}
	}
	buf = append(buf, file...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, int64(line), 10)
	return append(buf, ": "...)
}
