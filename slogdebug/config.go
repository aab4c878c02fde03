package slogdebug

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/reqctx"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/stress"
)

type envVar struct {
	name  string
	def   string // its default, as README.md's table says it
	field string // the Config field it sets: Validate's problems name the variable
	want  string // what it accepts ("": set's error says)
	// off: a bad value keeps debug mode off rather than taking its default:
	// the variable bounds what debug mode may take or show (its directory,
	// disk, memory, permissions, secrets, categories), where the default
	// could take or show more than was asked.
	off bool
	set func(c *Config, v string) error // parses v (trimmed, not empty); nil: read elsewhere
}

const (
	wantBool  = "true/false (also 1/0, yes/no, on/off)"
	wantSize  = "a positive size in bytes, such as 8388608 or 8MiB (suffixes KiB, MiB, GiB)"
	wantLimit = "a size such as 64MiB, or unlimited"
	wantMode  = "octal permissions such as 0640"
)

// envVars is every variable, in the order of README.md's table.
var envVars = []envVar{
	{"DEBUG_MODE", "`false`", "Enabled", wantBool, true, func(c *Config, v string) error { return into(&c.Enabled)(parseBool(v)) }},
	{envLogDir, "`./debug_logs`", "Dir", "", true, func(c *Config, v string) error { c.Dir = v; return nil }},
	{"DEBUG_SESSION_ID", "UTC start time `20060102_150405`", "SessionID", "", false, func(c *Config, v string) error { c.SessionID = v; return nil }},
	{"DEBUG_QUEUE_BYTES", "`8MiB`", "QueueBytes", wantSize, true, func(c *Config, v string) error { return into(&c.QueueBytes)(parseSize(v)) }},
	{"DEBUG_BLOCK_WHEN_FULL", "`false`", "BlockWhenFull", wantBool, false, func(c *Config, v string) error { return into(&c.BlockWhenFull)(parseBool(v)) }},
	{"DEBUG_FLUSH_INTERVAL", "`200ms`", "FlushInterval", fmt.Sprintf("a duration from %v to %v, such as 200ms or 1s", config.MinFlushInterval, config.MaxFlushInterval), false,
		func(c *Config, v string) error { return into(&c.FlushInterval)(parseDuration(v, false)) }},
	{"DEBUG_MAX_FILE_BYTES", "`64MiB`", "MaxFileBytes", wantLimit, true, func(c *Config, v string) error { return into(&c.MaxFileBytes)(parseLimit[int64](v, false)) }},
	{"DEBUG_MAX_TOTAL_BYTES", "`1GiB`", "MaxTotalBytes", wantLimit, true, func(c *Config, v string) error { return into(&c.MaxTotalBytes)(parseLimit[int64](v, false)) }},
	{"DEBUG_MAX_SESSIONS", "`20`", "MaxSessions", "a whole number of at least 1, or unlimited", true, func(c *Config, v string) error { return into(&c.MaxSessions)(parseLimit[int](v, true)) }},
	{"DEBUG_SYNC", "`false`", "Sync", wantBool, false, func(c *Config, v string) error { return into(&c.Sync)(parseBool(v)) }},
	{"DEBUG_FILE_MODE", "`0640`", "FileMode", wantMode, true, func(c *Config, v string) error { return into(&c.FileMode)(parseMode(v)) }},
	{"DEBUG_DIR_MODE", "`0750`", "DirMode", wantMode, true, func(c *Config, v string) error { return into(&c.DirMode)(parseMode(v)) }},
	{"DEBUG_REDACT_KEYS", "none", "RedactKeys", "", true, func(c *Config, v string) error { c.RedactKeys = splitList(v); return nil }},
	{"DEBUG_FLIGHT_RECORDER", "off", "FlightRecorder", fmt.Sprintf("a duration such as 2m, from %v to %v (0 for off)", config.MinFlightRecorder, config.MaxFlightRecorder), false,
		func(c *Config, v string) error { return into(&c.FlightRecorder)(parseDuration(v, true)) }},
	{"DEBUG_FLIGHT_RECORDER_BYTES", "`16MiB`", "FlightRecorderBytes", wantSize, false, func(c *Config, v string) error { return into(&c.FlightRecorderBytes)(parseSize(v)) }},
	{"DEBUG_EXECUTION_TRACE", "off", "ExecutionTrace", fmt.Sprintf("a duration such as 10s, from %v to %v (0 for off)", config.MinExecutionTrace, config.MaxExecutionTrace), false,
		func(c *Config, v string) error { return into(&c.ExecutionTrace)(parseDuration(v, true)) }},
	{"DEBUG_EXECUTION_TRACE_BYTES", "`16MiB`", "ExecutionTraceBytes", wantSize, false, func(c *Config, v string) error { return into(&c.ExecutionTraceBytes)(parseSize(v)) }},
	{"DEBUG_EXECUTION_TRACE_COOLDOWN", "`1m`", "ExecutionTraceCooldown",
		fmt.Sprintf("a duration such as 1m, from %v to %v (0 for the default, 1m)", config.MinExecutionTraceCooldown, config.MaxExecutionTraceCooldown), false,
		func(c *Config, v string) error { return into(&c.ExecutionTraceCooldown)(parseDuration(v, true)) }},
	{"DEBUG_GOROUTINES", "`false`", "Goroutines", wantBool, false, func(c *Config, v string) error { return into(&c.Goroutines)(parseBool(v)) }},
	{"DEBUG_DEFAULT_CATEGORY", "none", "DefaultCategory", "", false, func(c *Config, v string) error { c.DefaultCategory = v; return nil }},
	{"DEBUG_CATEGORIES", "all", "Categories", "", true, func(c *Config, v string) error { c.Categories = splitList(v); return nil }},
	{"DEBUG_ORCHESTRATOR_CALLS", "`false`", "OrchestratorCalls", wantBool, false, func(c *Config, v string) error { return into(&c.OrchestratorCalls)(parseBool(v)) }},
	{"DEBUG_CONSOLE_LEVEL", "`info`", "ConsoleLevel", "debug, info, warn or error (optionally +N/-N)", false, func(c *Config, v string) error { return c.ConsoleLevel.UnmarshalText([]byte(v)) }},
	{"DEBUG_CONSOLE_CATEGORIES", "`false`", "ConsoleCategories", wantBool, false, func(c *Config, v string) error { return into(&c.ConsoleCategories)(parseBool(v)) }},
	{"NO_COLOR", "unset", "NoColor", "", false, func(c *Config, _ string) error { c.NoColor = true; return nil }},
	{"DEBUG_STRESS", "`true`", "DisableStress", wantBool, false, func(c *Config, v string) error {
		on, err := parseBool(v)
		c.DisableStress = err == nil && !on
		return err
	}},
	{"DEBUG_STRESS_SLOW", "`requests=5s,engine_selection=2s`", "SlowThresholds", "CATEGORY=DURATION pairs separated by commas, such as requests=5s,engine_selection=2s", false,
		func(c *Config, v string) error { return into(&c.SlowThresholds)(parseThresholds(v)) }},
	{"DEBUG_STRESS_STALL", "`5s`", "StallThreshold", fmt.Sprintf("a duration from %v to %v, such as 5s (0 for off)", config.MinStallThreshold, config.MaxStallThreshold), false,
		func(c *Config, v string) error {
			d, err := parseDuration(v, true)
			if err == nil && d != 0 && (d < config.MinStallThreshold || d > config.MaxStallThreshold) {
				err = errNoParse
			}
			if d == 0 {
				d = -1 // off; Config's zero is the default
			}
			return into(&c.StallThreshold)(d, err)
		}},
	{"DEBUG_STRESS_SLOW_REQUEST_RATE", "`10/1m`", "SlowRequestRate", "", false, func(c *Config, v string) error { return into(&c.SlowRequestRate)(parseRate(v)) }},
	{"DEBUG_STRESS_PROVISIONING_FAILURE_RATE", "`5/1m`", "ProvisioningFailureRate", "", false, func(c *Config, v string) error { return into(&c.ProvisioningFailureRate)(parseRate(v)) }},
	{"DEBUG_STRESS_COOLDOWN", "`30s`", "StressCooldown", fmt.Sprintf("a duration such as 30s, at most %v (0 for the default)", config.MaxStressCooldown), false,
		func(c *Config, v string) error { return into(&c.StressCooldown)(parseDuration(v, true)) }},
	{envStrict, "`false`", "Strict", wantBool, false, func(c *Config, v string) error { return into(&c.Strict)(parseBool(v)) }},
	{envIgnoreVars, "none", "", "", false, nil}, // read by unknownVars
}

// envVarOf holds envVars by name and by Config field.
var envVarOf = func() map[string]*envVar {
	m := map[string]*envVar{}
	for i, v := range envVars {
		m[v.name] = &envVars[i]
		if v.field != "" {
			m[v.field] = &envVars[i]
		}
	}
	return m
}()

var removedVars = map[string]string{
	"DEBUG_MAX_LINE_BYTES": "a line is at most 64 KiB",
	"DEBUG_MAX_CATEGORIES": "a session opens at most 128 category files (a quarter of ulimit -n when that is less)",
}

const (
	envPrefix       = "DEBUG_" // ConfigFromEnv reports the unknown variables with it
	envLogDir       = "DEBUG_LOG_DIR"
	envConsoleLevel = "DEBUG_CONSOLE_LEVEL"
	envIgnoreVars   = "DEBUG_IGNORE_VARS"
	envStrict       = "DEBUG_STRICT"
)

// Config configures a Logger; the zero value has debug mode off and a tint
// console at Info. Zero fields take their defaults (README.md's table).
type Config struct {
	Enabled         bool          // debug mode on: the category files and the writer
	Dir             string        // the directory of the session files; default "./debug_logs"
	SessionID       string        // overrides the session ID (default: UTC start time)
	QueueBytes      int           // bounds the lines waiting for the writer
	FlushInterval   time.Duration // bounds how long a line waits before it is written
	BlockWhenFull   bool          // callers wait for room instead of dropping
	DefaultCategory string        // receives records without a category ("" = none)
	// Categories selects the categories written: names (only those) or
	// "-name"s (all but those); nil: all. The session file is always written.
	// orchestrator_calls is written only when named here or OrchestratorCalls.
	Categories []string
	// OrchestratorCalls writes "orchestrator_calls", a line per call to the
	// orchestrator (several per proxied request), unless Categories leaves it out.
	OrchestratorCalls bool

	ConsoleLevel slog.Level // the minimum level on the console; default Info
	// ConsoleCategories sends category records below Info to the console too.
	ConsoleCategories bool
	NoColor           bool // colour off on the console (also off off a terminal)
	// Console, when set, replaces tint and gets the records redacted; wrap
	// LogConsole(), not slog's default handler.
	Console slog.Handler
	Version string // the host program's version, written in session_start
	// MaxFileBytes (rotation), MaxTotalBytes and MaxSessions (oldest sessions
	// removed) bound the disk; 0: 64 MiB, 1 GiB, 20; -1: no limit.
	MaxFileBytes      int64
	MaxTotalBytes     int64
	MaxSessions       int
	Sync              bool        // every log call returns once its record is in its file
	FileMode, DirMode os.FileMode // of new files and directories (0: 0640 and 0750)
	// FlightRecorder, when positive, keeps that window of debug records in memory
	// (default 16 MiB) with debug mode off; a stress event writes them out.
	FlightRecorder      time.Duration
	FlightRecorderBytes int
	// RedactKeys are secret attribute keys besides the defaults (token, ...).
	RedactKeys []string

	DisableStress bool // stress detection off (else on whenever debug mode is)
	// SlowThresholds: per category, the slow duration (defaults: requests
	// 5s, engine_selection 2s; 0: off).
	SlowThresholds map[string]time.Duration
	// StallThreshold: a stream that integration.CopyStream copies and that
	// goes longer without bytes fires stream_stalled, while the stall
	// lasts (default 5s; <0: off; else 100ms to 1h).
	StallThreshold time.Duration
	// SlowRequestRate, ProvisioningFailureRate: COUNT/WINDOW (default "10/1m", "5/1m").
	SlowRequestRate, ProvisioningFailureRate string
	// StressCooldown: an event type's console silence (default 30s; <0: none).
	StressCooldown time.Duration
	StressRules    []func(category string, r slog.Record) (stress.Event, bool) // the program's own (stress.Options.Rules)
	// OnStress, when set, is called with every stress event that the
	// stress file gets (windowed ones included; not stress_suppressed, nor
	// the program's own LogStressEvent): for alerting without tailing the
	// files. It runs on a goroutine of its own, one event after another,
	// never on the goroutine that logged: at most 256 events wait, past
	// that one is dropped and counted (session_end's on_stress_dropped);
	// a panic is recovered and counted in Stats().Panics. The event is
	// redacted as the files are, and its Attrs end with the request's
	// request_id when it has one. Close and Flush wait at most a second
	// for the calls queued.
	OnStress func(stress.Event)
	// ExecutionTrace, when positive, keeps that much Go execution trace in
	// memory (default 16 MiB); a Warn+ stress event writes a snapshot, at
	// most one per cooldown (1m). Needs Go 1.25 and stress detection.
	ExecutionTrace         time.Duration
	ExecutionTraceBytes    int
	ExecutionTraceCooldown time.Duration
	// Goroutines, with debug mode and stress detection on, writes the
	// goroutine profile (runtime/pprof, stacks with their profiler labels)
	// to <session>_goroutines_001.txt for a Warn+ stress event of one
	// record, named on its line as "goroutines", at most one per minute;
	// Middleware then runs each request under the labels request_id and
	// route, and a request still waiting for its first byte at the slow
	// threshold, or a stalled stream, is caught while it waits. Any Go.
	Goroutines bool
	// SpanFromContext, when set, reads the trace and span of a record's
	// context, which then win over the request's own (package reqid):
	// otelspan.FromContext reads OpenTelemetry's.
	SpanFromContext func(ctx context.Context) (traceID [16]byte, spanID [8]byte, ok bool)
	// Strict makes New fail when debug mode cannot start (its directory),
	// as DEBUG_STRICT makes ConfigFromEnv fail on a bad setting; otherwise
	// the console says so once, at Error, and debug mode stays off.
	Strict bool

	env         *fromEnv         // what ConfigFromEnv found, said by New; nil for a Config built in code
	stressClock func() time.Time // tests: stress.Options.Now
	syncConsole bool             // tests: the library's console lines written on their caller's goroutine
}

// fromEnv is what ConfigFromEnv found besides the settings.
type fromEnv struct {
	problems []settingProblem // the bad settings, each left at its default or keeping debug mode off
	warnings []string         // other programs' DEBUG_* variables
	dirSet   bool             // DEBUG_LOG_DIR is set
	// consoleLevelSet: DEBUG_CONSOLE_LEVEL is set, which a Console of the
	// program's own does not follow (New says so).
	consoleLevelSet bool
}

// settingProblem is a bad setting: the variable (or Config field), what is
// wrong with it and accepted instead, and what debug mode does instead (New
// says it once, at Error).
type settingProblem struct {
	name   string // DEBUG_MODE, or Dir for a Config built in code
	msg    string // DEBUG_MODE="enabled": want true/false (...)
	effect string
	off    bool // debug mode stays off: SetDebug(true) answers it
}

func (p *settingProblem) Error() string { return p.msg }

// ConfigFromEnv reads a Config from the environment (README.md). A bad
// setting does not stop the program: it takes its default, or keeps debug
// mode off, and New says so once on the console, at Error. With
// DEBUG_STRICT=true every problem is this error instead, all at once.
// List your own DEBUG_* variables in DEBUG_IGNORE_VARS.
func ConfigFromEnv() (Config, error) { return ConfigFromEnvWith(nil) }

// ConfigFromEnvWith is ConfigFromEnv with overrides (such as flags) of
// variables' values; an empty value leaves the variable's own.
func ConfigFromEnvWith(overrides map[string]string) (Config, error) {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	for k, v := range overrides {
		if strings.TrimSpace(v) != "" {
			env[k] = v
		}
	}
	return configFromMap(env)
}

func configFromMap(env map[string]string) (Config, error) {
	cfg := Config{Dir: config.DefaultDir}
	var probs []settingProblem
	bad := func(name, format string, args ...any) {
		probs = append(probs, settingProblem{name: name, msg: fmt.Sprintf(format, args...)})
	}
	set, failed := map[string]string{}, map[string]bool{} // the variables set (trimmed), those reported
	for _, v := range envVars {
		val := strings.TrimSpace(env[v.name])
		if val == "" || v.set == nil {
			continue
		}
		set[v.name] = val
		if err := v.set(&cfg, val); err != nil {
			resetField(&cfg, v.field) // its default, whatever the parser left
			bad(v.name, "%s=%s: want %s", v.name, quote(val), cmp.Or(v.want, strings.TrimPrefix(err.Error(), "want ")))
			failed[v.name] = true
		}
	}
	for _, err := range cfg.problems() {
		p := err.(*config.OptionError)
		v := envVarOf[p.Field]
		if v == nil {
			bad("", "%v", p)
			continue
		}
		name := v.name
		if failed[name] {
			continue
		}
		want := "want " + varNames.Replace(p.Want)
		if p.Field == "SlowThresholds" {
			want = fmt.Sprintf("category %s: %s", quote(fmt.Sprint(p.Value)), want)
		}
		if v, ok := set[name]; ok {
			bad(name, "%s=%s: %s", name, quote(v), want)
		} else {
			bad(name, "%s (unset: the default, %v): %s", name, p.Value, want)
		}
		failed[name] = true
	}
	cfg.env = &fromEnv{dirSet: set[envLogDir] != "", consoleLevelSet: set[envConsoleLevel] != ""}
	// Only a strict start-up looks at the directory with debug mode off;
	// otherwise turning debug mode on does (New, SetDebug).
	if cfg.Strict && (cfg.env.dirSet || cfg.Enabled || cfg.FlightRecorder > 0) && !failed[envLogDir] {
		if err := cfg.checkDir(); err != nil {
			probs = append(probs, *err)
		}
	}
	unknown, warnings := unknownVars(env)
	probs = append(probs, unknown...)
	cfg.env.warnings = warnings
	if len(probs) == 0 {
		return cfg, nil
	}
	if cfg.Strict {
		errs := make([]error, len(probs))
		for i := range probs {
			errs[i] = &probs[i]
		}
		return cfg, fmt.Errorf("slogdebug: bad configuration: %w", errors.Join(errs...))
	}
	return settle(cfg, probs), nil
}

const offEffect = "debug mode stays off until it is fixed"

// settle sets the bad settings of cfg aside: each takes its default (a
// flight recorder's or execution trace's bound: that recorder off), and one
// whose variable is off keeps debug mode, and all it writes, off (as does
// one of no variable).
func settle(cfg Config, probs []settingProblem) Config {
	off := false
	for i := range probs {
		p := &probs[i]
		v := envVarOf[p.name]
		if v != nil {
			resetField(&cfg, v.field)
		}
		switch {
		case p.effect != "": // unknownVars said
		case v == nil || v.off:
			p.off, p.effect = true, offEffect
		case v.name == "DEBUG_FLIGHT_RECORDER_BYTES":
			cfg.FlightRecorder, p.effect = 0, "the flight recorder stays off"
		case v.name == "DEBUG_EXECUTION_TRACE_BYTES":
			cfg.ExecutionTrace, p.effect = 0, "the execution trace stays off"
		default:
			p.effect = "it takes its default, " + strings.ReplaceAll(v.def, "`", "")
		}
		off = off || p.off
	}
	if off { // nothing writes into the directory, nor holds memory for it
		cfg.Enabled, cfg.FlightRecorder, cfg.ExecutionTrace = false, 0, 0
		for _, v := range envVars {
			if v.off && v.name != envLogDir {
				resetField(&cfg, v.field) // the bounds at their defaults agree with each other
			}
		}
	}
	if left := cfg.problems(); len(left) > 0 { // a default disagreeing with a setting kept: none known
		probs = append(probs, settingProblem{msg: varNames.Replace(errors.Join(left...).Error()), effect: offEffect, off: true})
		cfg = Config{Dir: cfg.Dir, ConsoleLevel: cfg.ConsoleLevel, ConsoleCategories: cfg.ConsoleCategories, NoColor: cfg.NoColor, env: cfg.env}
	}
	cfg.env.problems = probs
	return cfg
}

// resetField sets a Config field, by name, to its zero value: its default.
func resetField(c *Config, field string) {
	if field != "" {
		if f := reflect.ValueOf(c).Elem().FieldByName(field); f.IsValid() {
			f.Set(reflect.Zero(f.Type()))
		}
	}
}

// checkDir checks the directory debug mode writes in (it creates none).
func (c Config) checkDir() *settingProblem {
	if err := config.CheckDir(c.Dir); err != nil {
		return c.dirError(fmt.Errorf("%w: want a directory this process can create files in", err))
	}
	return nil
}

// dirError is err of the directory, named by its variable (or Config.Dir
// for a Config built in code) and value.
func (c Config) dirError(err error) *settingProblem {
	name, what := "Dir", fmt.Sprintf("Config.Dir %s", quote(c.Dir))
	if c.env != nil {
		name, what = envLogDir, envLogDir+" (unset: the default)"
		if c.env.dirSet {
			what = fmt.Sprintf("%s=%s", envLogDir, quote(c.Dir))
		}
	}
	return &settingProblem{name: name, msg: fmt.Sprintf("%s: %v", what, err)}
}

// varNames renames Config fields to their variables, longest first
// (FlightRecorderBytes, not FlightRecorder).
var varNames = func() *strings.Replacer {
	vars := append([]envVar(nil), envVars...)
	sort.Slice(vars, func(i, j int) bool { return len(vars[i].field) > len(vars[j].field) })
	pairs := []string{"MaxLineBytes", "the line limit", "trace.FlightRecorder", "trace.FlightRecorder"}
	for _, v := range vars {
		if v.field != "" && v.field != "Dir" { // Dir: a word too common to replace
			pairs = append(pairs, v.field, v.name)
		}
	}
	return strings.NewReplacer(pairs...)
}()

// unknownVars: typos (which keep debug mode off), removed variables and
// mistakes in DEBUG_IGNORE_VARS are problems, others' variables warnings.
func unknownVars(env map[string]string) (probs []settingProblem, warnings []string) {
	problem := func(name, effect string, off bool, format string, args ...any) {
		probs = append(probs, settingProblem{name: name, msg: fmt.Sprintf(format, args...), effect: effect, off: off})
	}
	var names, suffixes []string // suffixes: without DEBUG_ (NO_COLOR has none)
	for _, v := range envVars {
		names = append(names, v.name)
		if suffix, ok := strings.CutPrefix(v.name, envPrefix); ok {
			suffixes = append(suffixes, suffix)
		}
	}
	var ignore []string
	for _, pat := range strings.Split(env[envIgnoreVars], ",") {
		pat = strings.TrimSpace(pat)
		switch {
		case pat == "":
		case pat == "*":
			return probs, nil
		case envVarOf[pat] != nil && envVarOf[pat].name == pat:
			problem(envIgnoreVars, "that entry is left out", false, "%s=%s: %s is debug mode's own variable: want only your program's DEBUG_* variables (a trailing * matches a prefix)", envIgnoreVars, quote(env[envIgnoreVars]), pat)
		case !strings.HasPrefix(pat, envPrefix):
			problem(envIgnoreVars, "that entry is left out", false, "%s=%s: %s: want only DEBUG_* variables, such as DEBUG_PPROF or DEBUG_SQL_* (other variables are never read)", envIgnoreVars, quote(env[envIgnoreVars]), quoteName(pat))
		default:
			ignore = append(ignore, pat)
		}
	}
	var unknown []string
	for name := range env {
		ignored := slices.ContainsFunc(ignore, func(p string) bool { // p, or p's prefix before a trailing *
			prefix, ok := strings.CutSuffix(p, "*")
			return ok && strings.HasPrefix(name, prefix) || p == name
		})
		if strings.HasPrefix(name, envPrefix) && envVarOf[name] == nil && !ignored {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		if why, ok := removedVars[name]; ok {
			problem(quoteName(name), "it is ignored", false, "%s: no longer a debug mode variable: %s; remove it", quoteName(name), why)
			continue
		}
		suffix := strings.TrimPrefix(name, envPrefix)
		if near := closest(suffix, suffixes, max(2, len(suffix)/3)); near != "" && len(suffix) <= maxSuggestLen {
			// What it was meant to set is not known: it may have bounded debug mode.
			problem(quoteName(name), offEffect, true, "%s: not a debug mode variable; did you mean %s%s? (a variable of your program's own: list it in %s)",
				quoteName(name), envPrefix, near, envIgnoreVars)
			continue
		}
		warnings = append(warnings, fmt.Sprintf("%s: not a debug mode variable, left alone (the variables are %s; list your program's own in %s to silence this)",
			quoteName(name), strings.Join(names, ", "), envIgnoreVars))
	}
	return probs, warnings
}

const maxQuoted = 128 // how much of a value an error quotes

func quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	return strconv.Quote(v[:maxQuoted]) + fmt.Sprintf("... (%d bytes)", len(v))
}

func quoteName(name string) string {
	if len(name) <= maxQuoted && !strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return name
	}
	return quote(name)
}

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func into[T any](dst *T) func(T, error) error {
	return func(v T, err error) error {
		if err == nil {
			*dst = v
		}
		return err
	}
}

func parseRate(v string) (string, error) {
	_, err := config.ParseRate(v)
	return v, err
}

var errNoParse = errors.New("does not parse") // the parsers' error; the variable's want says more

var bools = map[string]bool{"1": true, "t": true, "true": true, "y": true, "yes": true, "on": true,
	"0": false, "f": false, "false": false, "n": false, "no": false, "off": false}

func parseBool(s string) (bool, error) {
	if b, ok := bools[strings.ToLower(s)]; ok {
		return b, nil
	}
	return false, errNoParse
}

// parseDuration parses a duration that is not negative, nor zero unless zeroOK.
func parseDuration(s string, zeroOK bool) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d == 0 && !zeroOK {
		return 0, errNoParse
	}
	return d, nil
}

// parseLimit parses a size (a count >= 1 when count), or -1 for unlimited.
func parseLimit[T int | int64](s string, count bool) (T, error) {
	if slices.Contains([]string{"-1", "unlimited", "none", "off"}, strings.ToLower(s)) {
		return -1, nil
	}
	if !count {
		n, err := parseSize(s)
		return T(n), err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errNoParse
	}
	return T(n), nil
}

func parseMode(s string) (os.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m == 0 || m > 0o777 {
		return 0, errNoParse
	}
	return os.FileMode(m), nil
}

// parseSize parses "4096", "64KiB", "8MiB", "1GiB" (K, M, G are binary too).
func parseSize(s string) (int, error) {
	num := strings.TrimRight(s, "KMGkmgiIbB ")
	mult, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[len(num):]))]
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errNoParse
	}
	return n * mult, nil
}

var sizeUnits = map[string]int{"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 1 << 10,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gib": 1 << 30, "gb": 1 << 30}

func parseThresholds(s string) (map[string]time.Duration, error) {
	m := make(map[string]time.Duration)
	for _, pair := range strings.Split(s, ",") {
		cat, d, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || strings.TrimSpace(cat) == "" {
			return nil, errNoParse
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur < 0 {
			return nil, errNoParse
		}
		m[strings.TrimSpace(cat)] = dur
	}
	return m, nil
}

func (c Config) stressOptions() stress.Options {
	slow := map[string]time.Duration{category.Requests: config.DefaultSlowRequest, category.EngineSelection: config.DefaultSlowEngineSelection}
	maps.Copy(slow, c.SlowThresholds)
	return stress.Options{Slow: slow, SlowRequestRate: c.SlowRequestRate, ProvisioningFailureRate: c.ProvisioningFailureRate,
		Cooldown: c.StressCooldown, Rules: c.StressRules, Now: c.stressClock}
}

// stall is the stall threshold in effect: 0 when off.
func (c Config) stall() time.Duration {
	switch {
	case c.StallThreshold < 0:
		return 0
	case c.StallThreshold == 0:
		return config.DefaultStallThreshold
	}
	return c.StallThreshold
}

func (c Config) handlerOptions() handler.Options {
	return handler.Options{Dir: c.Dir, SessionID: c.SessionID, Level: slog.LevelDebug, Stamp: c.stamp(),
		DefaultCategory: c.DefaultCategory, QueueBytes: c.QueueBytes, BlockWhenFull: c.BlockWhenFull,
		FlushInterval: c.FlushInterval, Version: c.Version, RedactKeys: c.RedactKeys, MaxFileBytes: c.MaxFileBytes,
		MaxTotalBytes: c.MaxTotalBytes, MaxSessions: c.MaxSessions, Sync: c.Sync, FileMode: c.FileMode, DirMode: c.DirMode}
}

// sessionAttrs is the facade's part of session_start; debugMode is off for a dump.
func (l *Logger) sessionAttrs(debugMode bool) []slog.Attr {
	c := l.cfg
	attrs := []slog.Attr{slog.Bool("enabled", debugMode), slog.String("console", l.consoleName)}
	if c.Console == nil { // tint's settings; another console has its own
		attrs = append(attrs, slog.String("console_level", c.ConsoleLevel.String()), slog.Bool("no_color", l.noColor))
	}
	if len(c.Categories) > 0 {
		attrs = append(attrs, slog.String("categories", strings.Join(c.Categories, ",")))
	}
	attrs = append(attrs, slog.Bool(category.OrchestratorCalls, l.sel.selected(category.OrchestratorCalls)))
	stressOn := !c.DisableStress && (debugMode || c.FlightRecorder > 0)
	attrs = append(attrs, slog.Bool("console_categories", c.ConsoleCategories), slog.Bool("stress", stressOn),
		slog.Duration("flight_recorder", c.FlightRecorder))
	if c.ExecutionTrace > 0 {
		attrs = append(attrs, slog.Duration("execution_trace", c.ExecutionTrace))
	}
	if c.Goroutines {
		attrs = append(attrs, slog.Bool("goroutines", true))
	}
	if stressOn {
		var rules []slog.Attr
		for cat, d := range c.stressOptions().Slow {
			rules = append(rules, slog.Duration(cat, d))
		}
		sort.Slice(rules, func(i, j int) bool { return rules[i].Key < rules[j].Key })
		attrs = append(attrs, slog.Attr{Key: "stress_slow", Value: slog.GroupValue(rules...)}, slog.Duration("stress_stall", c.stall()))
	}
	return attrs
}

// requestIDOf reads a record's request ID (package reqid).
func requestIDOf(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if e := reqctx.From[reqid.IDs](ctx); e != nil { // package reqid's entry: zero IDs without a request's
		return e.IDs.RequestID
	}
	return ""
}

// stamp is Options.Stamp: the request ID on every line; a trace and span
// only from SpanFromContext (Middleware writes the request's on its line).
func (c Config) stamp() func(context.Context) (string, [16]byte, [8]byte) {
	span := c.SpanFromContext
	return func(ctx context.Context) (requestID string, traceID [16]byte, spanID [8]byte) {
		requestID = requestIDOf(ctx)
		if span != nil && ctx != nil {
			if t, s, ok := span(ctx); ok {
				return requestID, t, s
			}
			if k, ok := ctx.Value(keptSpanKey{}).(keptSpan); ok { // a flight recorder's dump
				return requestID, k.trace, k.span
			}
		}
		return requestID, traceID, spanID
	}
}
