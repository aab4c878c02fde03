package slogdebug

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	slogmulti "github.com/samber/slog-multi"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/stress"
)

// Logger is a *slog.Logger fanning out to the console and, with debug mode
// on, the category files; derived loggers follow SetDebug's switches.
type Logger struct {
	*slog.Logger
	*core
	// cats holds l's handler with each typed helper's category bound first.
	cats [numCategories]atomic.Pointer[helperHandler]
}

type core struct {
	cfg          Config
	console      slog.Handler
	libConsole   *asyncConsole    // the console of the library's own lines (stress events, failures)
	hook         *jobQueue        // Config.OnStress's calls; nil without it
	red          *redact.Redactor // the files' redaction, for OnStress's events
	consoleLevel slog.Level       // noFloor when the console's level is not known
	consoleName  string           // what session_start calls the console
	noColor      bool             // tint writes without colour
	st           atomic.Pointer[state]
	floor        atomic.Int64                    // st's floor, for the helpers' inlined first check
	panics       atomic.Uint64                   // the fan-out's panics, recovered (see guard)
	sel          *selection                      // the categories written (Config.Categories); nil: all
	session      atomic.Pointer[handler.Handler] // the session's files' last handler; nil before any
	exec         *execTrace                      // Config.ExecutionTrace's recorder, from New to Close; nil when off
	gor          *execTrace                      // Config.Goroutines' snapshots, from New to Close; nil when off
	slowStart    time.Duration                   // with gor, the requests' slow threshold: Middleware's watch
	stressBefore atomic.Pointer[stress.Stats]    // the counts of the session's replaced detectors
	veto         error                           // the bad settings that keep debug mode off (SetDebug's answer)

	mu     sync.Mutex // serializes switching
	closed bool
}

// With is slog.Logger.With, the typed helpers included.
func (l *Logger) With(args ...any) *Logger {
	if len(args) == 0 {
		return l
	}
	return l.derive(l.Logger.With(args...))
}

// WithGroup is slog.Logger.WithGroup, the typed helpers' fields included.
func (l *Logger) WithGroup(name string) *Logger {
	if name == "" {
		return l
	}
	return l.derive(l.Logger.WithGroup(name))
}

func (l *Logger) derive(lg *slog.Logger) *Logger { return &Logger{Logger: lg, core: l.core} }

type state struct {
	on       bool
	files    *handler.Handler
	stress   *stress.Handler
	recorder *recorder // the flight recorder, with debug mode off
	dumper   *dumper   // writes its dumps
	root     slog.Handler
	// program is root for slog's default (Init): below Info, an unbound
	// logger is enabled only at the console's levels (but for a default category or
	// stress rules of the program's), so that the program's own slog.Debug
	// lines cost what they cost before Init (filter.go, plainAt).
	program slog.Handler
	floor   slog.Level // no handler takes a record with a category below it
}

const noFloor = slog.Level(math.MinInt) // every helper asks the handlers' Enabled

// New builds the Logger, its console tint on console (nil: os.Stderr) or
// cfg.Console. Close it to write everything queued. It fails on a Config
// that Validate refuses; when debug mode cannot start (its directory), the
// console says so once, at Error, and debug mode stays off, unless Strict.
func New(cfg Config, console io.Writer) (*Logger, error) {
	if console == nil {
		console = os.Stderr
	}
	if cfg.Dir == "" {
		cfg.Dir = config.DefaultDir
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sel, _ := newSelection(cfg.Categories, cfg.OrchestratorCalls) // Validate said what is wrong
	l := &Logger{core: &core{cfg: cfg, consoleLevel: noFloor, consoleName: typeName(cfg.Console), sel: sel}}
	red := redact.New(cfg.RedactKeys...) // the console shows what the files show: redacted
	if cfg.Console != nil {
		console := cfg.Console
		if isSlogDefaultHandler(console) { // it writes through package log, which slog.SetDefault points at l
			console, l.consoleName = newLogConsole(console), "slog default handler (LogConsole)"
		}
		l.console = &redactingHandler{Handler: console, red: red}
	} else {
		l.noColor = cfg.NoColor || !isTerminal(console)
		l.consoleName, l.console = ourConsole(console, cfg.ConsoleLevel, l.noColor, consoleSafety(red))
		l.consoleLevel = cfg.ConsoleLevel // its level is fixed: helpers below it need not ask
	}
	l.libConsole = newAsyncConsole(l.guarded(l.console))
	l.libConsole.q.direct = cfg.syncConsole
	if cfg.OnStress != nil {
		l.hook, l.red = newJobQueue(), red
	}
	var env fromEnv // what ConfigFromEnv found, said once the console is up
	if cfg.env != nil {
		env = *cfg.env
	}
	problems, warnings := env.problems, env.warnings
	var offErrs []error
	for i := range problems {
		if problems[i].off {
			offErrs = append(offErrs, &problems[i])
		}
	}
	if len(offErrs) > 0 { // off, even if the program turned it on after ConfigFromEnv
		l.veto = &vetoError{errors.Join(offErrs...)}
		cfg.Enabled, cfg.FlightRecorder = false, 0
		l.cfg = cfg
	}
	var err error
	if cfg.ExecutionTrace > 0 {
		if l.exec, err = startExecTrace(cfg, l.libConsole); err != nil {
			return nil, err // another Logger's recorder runs: the program's doing
		}
	}
	l.gor = startGoroutines(cfg, l)
	st, err := l.buildState(cfg.Enabled)
	if err != nil && cfg.Enabled && !cfg.Strict {
		var bad *settingProblem
		if !errors.As(err, &bad) {
			bad = cfg.dirError(err)
		}
		problems = append(problems, settingProblem{name: bad.name, msg: bad.msg, effect: "debug mode stays off (SetDebug(true) tries again)"})
		st, err = l.buildState(false)
	}
	if err != nil {
		l.exec.close()
		l.gor.close()
		return nil, err
	}
	l.publish(st)
	l.Logger = slog.New(&switchHandler{l: l})
	if st.on {
		say(l.guarded(l.console), slog.LevelInfo, "debug mode on", slog.String("session", l.SessionID()), slog.String("dir", l.Dir()))
	}
	if env.consoleLevelSet && cfg.Console != nil {
		warnings = append(slices.Clip(warnings), envConsoleLevel+" is left alone: it sets tint's level, and Config.Console, the program's own console, keeps its own")
	}
	for _, p := range problems { // said whatever the console's level, as are the warnings
		r := slog.NewRecord(time.Now(), slog.LevelError, "debug mode: "+p.msg+"; "+p.effect, 0)
		if p.name != "" {
			r.AddAttrs(slog.String("variable", p.name))
		}
		_ = l.guarded(l.console).Handle(context.Background(), r)
	}
	for _, w := range warnings {
		_ = l.guarded(l.console).Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelWarn, "debug mode: "+w, 0))
	}
	return l, nil
}

// vetoError is SetDebug(true)'s answer while bad settings keep debug mode off.
type vetoError struct{ err error }

func (e *vetoError) Error() string {
	return "slogdebug: bad configuration, " + offEffect + " (and the program restarted): " + e.err.Error()
}

func (e *vetoError) Unwrap() error { return e.err }

func say(console slog.Handler, level slog.Level, msg string, attrs ...slog.Attr) {
	if ctx := context.Background(); console.Enabled(ctx, level) {
		r := slog.NewRecord(time.Now(), level, msg, 0)
		r.AddAttrs(attrs...)
		_ = console.Handle(ctx, r)
	}
}

func (l *Logger) buildState(on bool) (*state, error) {
	cfg := l.cfg
	st := &state{on: on}
	var debug []slog.Handler
	if l.exec != nil && !cfg.DisableStress && (on || cfg.FlightRecorder > 0 && !l.closed) {
		// Before stress detection: the record that fires an event is in its snapshot.
		debug = append(debug, traceLogHandler{red: redact.New(cfg.RedactKeys...)})
	}
	var detector atomic.Pointer[stress.Handler]
	var stressFiles slog.Handler // where stress events go, if stress detection is on
	var undo func()              // on failure
	var dropped func() map[string]uint64
	if on {
		if err := cfg.checkDir(); err != nil {
			return nil, fmt.Errorf("slogdebug: debug mode: %w", err)
		}
		opts := l.fileOptions()
		opts.SessionAttrs = l.sessionAttrs(true)
		opts.EndAttrs = func() []slog.Attr { return l.endAttrs(detector.Load()) }
		opts.OnDrop = func() {
			if d := detector.Load(); d != nil { // stress detection on
				d.DropsHappened()
			}
		}
		files, err := handler.New(opts)
		if err != nil {
			return nil, fmt.Errorf("slogdebug: debug mode: %w", cfg.dirError(err))
		}
		st.files = files
		debug = append(debug, files)
		stressFiles, undo, dropped = annotated{selectCategories(files, l.sel, true, nil), l.exec, l.gor, files}, func() { files.Close() }, droppedSince(files, opts.Resume)
	}
	if !on && cfg.FlightRecorder > 0 && !l.closed {
		st.recorder = &recorder{window: cfg.FlightRecorder, maxBytes: cmp.Or(cfg.FlightRecorderBytes, config.DefaultFlightRecorderBytes),
			span: cfg.SpanFromContext}
		debug = append(debug, &chainHandler{min: slog.LevelDebug, handle: st.recorder.record})
		if !cfg.DisableStress {
			st.dumper = l.startDumper(st.recorder)
			stressFiles, undo = &chainHandler{min: noFloor, handle: st.dumper.trigger}, st.dumper.close
		}
	}
	if stressFiles != nil && !cfg.DisableStress {
		sopts := cfg.stressOptions()
		sopts.Files, sopts.Console, sopts.Dropped = stressFiles, l.libConsole, dropped
		if l.hook != nil {
			sopts.OnEvent = l.onStress
		}
		d, err := stress.New(sopts)
		if err != nil {
			undo()
			return nil, fmt.Errorf("slogdebug: stress detection: %w", err)
		}
		detector.Store(d)
		st.stress = d
		debug = append(debug, d)
	}
	console, floor := l.console, l.consoleLevel
	if !cfg.ConsoleCategories && l.consoleLevel < slog.LevelInfo {
		// The category records below Info stay off the console (one whose
		// level is Info or more, tint's, keeps them off itself).
		console, floor = &catFilter{next: l.console, min: slog.LevelInfo, catSel: true}, max(l.consoleLevel, slog.LevelInfo)
	}
	guardedConsole := l.guarded(console)
	st.root, st.program = guardedConsole, guardedConsole // the console alone (debug mode off): no fan-out to pay for
	if len(debug) > 0 {
		for i, h := range debug {
			debug[i] = l.guarded(h)
		}
		// One selection of the categories for all of debug mode's handlers.
		// Uncategorized records matter to them only with a default
		// category (the files) or stress rules of the program's.
		plain, fan := cfg.DefaultCategory != "" || len(cfg.StressRules) > 0, slogmulti.Fanout(debug...)
		st.root = slogmulti.Fanout(guardedConsole, selectCategories(fan, l.sel, plain, nil))
		st.program = st.root
		if !plain {
			st.program = slogmulti.Fanout(guardedConsole, selectCategories(fan, l.sel, plain, l.console))
		}
		floor = min(floor, slog.LevelDebug)
	}
	st.floor = floor
	return st, nil
}

func (l *Logger) publish(st *state) {
	if st.files != nil {
		l.session.Store(st.files)
	}
	l.st.Store(st)
	l.floor.Store(int64(st.floor))
}

// passive wraps a logger that slogdebug did not build (see Default).
func passive(lg *slog.Logger) *Logger {
	p := &Logger{Logger: lg, core: &core{closed: true}}
	st := &state{root: lg.Handler(), program: lg.Handler(), floor: slog.LevelError + 1}
	for _, level := range []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelInfo, slog.LevelDebug} {
		if lg.Handler().Enabled(context.Background(), level) {
			st.floor = level
		}
	}
	p.publish(st)
	return p
}

// DebugMode reports whether debug mode is on.
func (l *Logger) DebugMode() bool { return l.st.Load().on }

// Close writes what is queued and session_end, and closes the files; the
// console keeps working. Close is idempotent.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	// Last: the library's console lines (stress_suppressed among them), a
	// second at most, whatever the console does; before them, OnStress's
	// calls, a second at most too.
	defer l.libConsole.q.close(asyncConsoleGrace)
	if l.hook != nil {
		defer l.hook.close(asyncConsoleGrace)
	}
	old := l.st.Load()
	if old.dumper != nil {
		old.dumper.close() // its events written, its files closed
	}
	st, _ := l.buildState(false)
	l.publish(st)
	l.exec.close() // the snapshot being written is counted in session_end
	l.gor.close()
	if old.on {
		return old.closeFiles("session_end")
	}
	opts := l.fileOptions()
	if opts.Resume == nil {
		return nil
	}
	opts.EndAttrs = func() []slog.Attr { return l.endAttrs(old.stress) } // the flight recorder's detector, if on
	opts.EndOnly = true
	end, err := handler.New(opts)
	if err == nil {
		err = end.Close()
	}
	if err != nil {
		err = fmt.Errorf("slogdebug: end the session: %w", err)
	}
	return err
}

// onStress is stress.Options.OnEvent: it queues Config.OnStress's call
// with e and the request's ID; the call redacts e as the files are, and
// recovers and counts a panic.
func (l *Logger) onStress(ctx context.Context, e stress.Event) {
	hasID := slices.ContainsFunc(e.Attrs, func(a slog.Attr) bool { return a.Key == "request_id" })
	if id := requestIDOf(ctx); id != "" && !hasID {
		e.Attrs = append(slices.Clip(e.Attrs), slog.String("request_id", id))
	}
	hook, red := l.cfg.OnStress, l.red
	if !l.hook.send(func() {
		p := safego.Call(func() {
			e.Description = red.RedactText(e.Description)
			attrs := make([]slog.Attr, len(e.Attrs))
			for i, a := range e.Attrs {
				attrs[i] = red.RedactAttr(nil, a)
			}
			e.Attrs = attrs
			hook(e)
		})
		if p != nil {
			l.panics.Add(1)
		}
	}) {
		l.hook.dropped.Add(1) // after Close
	}
}

// droppedSince is Options.Dropped: files' drops since those of resumed.
func droppedSince(files, resumed *handler.Handler) func() map[string]uint64 {
	var before handler.Stats
	if resumed != nil {
		before = resumed.Stats()
	}
	return func() map[string]uint64 {
		out := make(map[string]uint64)
		for name, c := range files.Stats().Categories {
			if n := c.Dropped - before.Categories[name].Dropped; n > 0 {
				out[name] = n
			}
		}
		return out
	}
}

func (l *Logger) endAttrs(d *stress.Handler) []slog.Attr {
	var attrs []slog.Attr
	if counts := l.stressCounts(d); counts != nil {
		attrs = append(attrs, slog.Attr{Key: "stress_events", Value: counts.LogValue()})
	}
	if l.exec != nil {
		attrs = append(attrs, slog.Attr{Key: "execution_trace", Value: l.exec.Stats().LogValue()})
	}
	if l.gor != nil {
		attrs = append(attrs, slog.Attr{Key: "goroutine_snapshots", Value: l.gor.Stats().LogValue()})
	}
	if n := l.libConsole.q.dropped.Load(); n > 0 {
		attrs = append(attrs, slog.Uint64("console_lines_dropped", n))
	}
	if l.hook != nil {
		if n := l.hook.dropped.Load(); n > 0 {
			attrs = append(attrs, slog.Uint64("on_stress_dropped", n))
		}
	}
	return append(attrs, slog.Uint64("panics", l.Stats().Panics))
}

func (l *Logger) stressCounts(d *stress.Handler) *stress.Stats {
	counts := l.stressBefore.Load()
	if d != nil {
		now := d.Stats()
		if counts != nil {
			now = counts.Add(now)
		}
		counts = &now
	}
	return counts
}

func (l *Logger) retireStress(d *stress.Handler) {
	if d != nil {
		l.stressBefore.Store(l.stressCounts(d))
	}
}

// closeFiles closes the detector first: its summary goes in the files.
func (st *state) closeFiles(event string) error {
	if st.stress != nil {
		return errors.Join(st.stress.Close(), st.files.CloseWith(event))
	}
	return st.files.CloseWith(event)
}

// Flush returns once everything logged before it is in the files, and the
// library's own console lines (stress events) are written, or a second has
// passed on a console that blocks.
func (l *Logger) Flush() error {
	if l.libConsole != nil {
		defer l.libConsole.q.flush(asyncConsoleGrace)
	}
	if l.hook != nil {
		defer l.hook.flush(asyncConsoleGrace)
	}
	l.gor.wait() // a goroutine snapshot named on a line is whole in its file
	st := l.st.Load()
	if st.dumper != nil {
		st.dumper.flush() // the flight recorder's dumps
	}
	if st.files != nil {
		return st.files.Flush()
	}
	return nil
}

// SessionID returns the session's ID, or "" before it has files.
func (l *Logger) SessionID() string { return ofSession(l, (*handler.Handler).SessionID, "") }

// Dir returns the directory of the session's files.
func (l *Logger) Dir() string { return ofSession(l, (*handler.Handler).Dir, l.cfg.Dir) }

// Path returns the path of a category's file, or "" before the session has files.
func (l *Logger) Path(category string) string {
	return ofSession(l, func(s *handler.Handler) string { return s.Path(category) }, "")
}

func ofSession[T any](l *Logger, f func(*handler.Handler) T, def T) T {
	if s := l.session.Load(); s != nil {
		return f(s)
	}
	return def
}

// Stats returns the category handler's counts for the whole session so far.
func (l *Logger) Stats() handler.Stats {
	st := ofSession(l, (*handler.Handler).Stats, handler.Stats{})
	st.Panics += l.panics.Load()
	return st
}

func (l *Logger) fileOptions() handler.Options {
	opts := l.cfg.handlerOptions()
	opts.OnError, opts.Resume = l.writeFailed, l.session.Load()
	return opts
}

func (l *Logger) writeFailed(err error, errs, lost uint64) {
	say(l.libConsole, slog.LevelWarn, "debug mode: writing the debug files failed",
		slog.Any("error", err), slog.Uint64("errors", errs), slog.Uint64("lines_lost", lost))
}

func consoleSafety(red *redact.Redactor) func([]string, slog.Attr) slog.Attr {
	return func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.MessageKey && a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(escapeControl(red.RedactText(a.Value.String())))
			return a
		}
		return red.RedactAttr(groups, a)
	}
}

func escapeControl(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func isTerminal(w io.Writer) bool {
	if f, ok := w.(*os.File); ok {
		fi, err := f.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	return false
}

var defaultLogger atomic.Pointer[Logger]

// Init is New on os.Stderr, made the package's and slog's default (closing
// the previous one). Call Close before exiting. Through slog's default, a
// record without a bound category is enabled below Info only at the
// console's levels (but with Config.DefaultCategory or StressRules), so
// that the program's own slog.Debug lines build no record:
// slog.With("category", ...) binds one; a call's own category attribute
// below Info and the console's level is not seen there (the Logger itself
// sees it). From Info up the console's level has no say.
func Init(cfg Config) (*Logger, error) {
	if old := defaultLogger.Load(); old != nil && old.exec != nil && cfg.ExecutionTrace > 0 {
		old.exec.close() // a process runs one execution trace recorder
	}
	l, err := New(cfg, os.Stderr)
	if err != nil {
		return nil, err
	}
	// Default first, slog's then: integration resolves Default() again
	// whenever slog.Default() changes, so slog's new default must never be
	// seen beside the previous Logger (which it would keep, closed).
	old := defaultLogger.Swap(l)
	slog.SetDefault(slog.New(&switchHandler{l: l, program: true}))
	if old != nil {
		if err := old.Close(); err != nil {
			l.Warn("slogdebug: closing the previous default logger", "error", err)
		}
	}
	return l, nil
}

// Default returns the Logger made by Init, or one over slog.Default().
func Default() *Logger {
	if l := defaultLogger.Load(); l != nil {
		return l
	}
	return passive(slog.Default())
}

// Flush flushes the default Logger.
func Flush() error { return Default().Flush() }

// Close closes the default Logger.
func Close() error { return Default().Close() }
