package slogdebug

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/stress"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvDebugMode       = "DEBUG_MODE"               // true/false, 1/0, yes/no, on/off
	EnvLogDir          = "DEBUG_LOG_DIR"            // directory of the session files
	EnvSessionID       = "DEBUG_SESSION_ID"         // overrides the UTC start-time session ID
	EnvQueueBytes      = "DEBUG_QUEUE_BYTES"        // bytes, or with a KiB/MiB/GiB suffix
	EnvFlushInterval   = "DEBUG_FLUSH_INTERVAL"     // Go duration: 200ms, 1s
	EnvBlockWhenFull   = "DEBUG_BLOCK_WHEN_FULL"    // true: wait for room instead of dropping
	EnvDefaultCategory = "DEBUG_DEFAULT_CATEGORY"   // category of records that carry none
	EnvConsoleLevel    = "DEBUG_CONSOLE_LEVEL"      // debug, info, warn, error (or info+2, ...)
	EnvCategories      = "DEBUG_CATEGORIES"         // requests,errors (only those) or -orchestrator_calls (all but those)
	EnvConsoleCategory = "DEBUG_CONSOLE_CATEGORIES" // true: the category records below Info reach a Debug console too
	EnvNoColor         = "NO_COLOR"                 // any non-empty value: no colour on the console

	EnvRedactKeys             = "DEBUG_REDACT_KEYS"                      // more secret attribute keys, comma-separated
	EnvFlightRecorder         = "DEBUG_FLIGHT_RECORDER"                  // with debug mode off, keep this much (a Go duration, 2m) of debug records in memory
	EnvFlightRecorderBytes    = "DEBUG_FLIGHT_RECORDER_BYTES"            // ... within this many bytes (default 16MiB)
	EnvMaxFileBytes           = "DEBUG_MAX_FILE_BYTES"                   // a category file's cap before it rotates; "unlimited" for none
	EnvMaxTotalBytes          = "DEBUG_MAX_TOTAL_BYTES"                  // the directory's disk budget; "unlimited" for none
	EnvMaxSessions            = "DEBUG_MAX_SESSIONS"                     // sessions kept in the directory; "unlimited" for all
	EnvSync                   = "DEBUG_SYNC"                             // true: every record is in its file when the log call returns
	EnvFileMode               = "DEBUG_FILE_MODE"                        // octal permissions of new files (0640)
	EnvDirMode                = "DEBUG_DIR_MODE"                         // octal permissions of new directories (0750)
	EnvStress                 = "DEBUG_STRESS"                           // true/false: stress detection with debug mode (default true)
	EnvStressSlow             = "DEBUG_STRESS_SLOW"                      // requests=5s,engine_selection=2s,...
	EnvStressSlowRequestRate  = "DEBUG_STRESS_SLOW_REQUEST_RATE"         // COUNT/WINDOW: 10/1m
	EnvStressProvisioningRate = "DEBUG_STRESS_PROVISIONING_FAILURE_RATE" // COUNT/WINDOW: 5/1m
	EnvStressCooldown         = "DEBUG_STRESS_COOLDOWN"                  // Go duration: 30s

	EnvExecutionTrace         = "DEBUG_EXECUTION_TRACE"          // keep this much (a Go duration, 10s) of the Go execution trace in memory; Go 1.25+
	EnvExecutionTraceBytes    = "DEBUG_EXECUTION_TRACE_BYTES"    // ... within about this many bytes (default 16MiB)
	EnvExecutionTraceCooldown = "DEBUG_EXECUTION_TRACE_COOLDOWN" // at most one snapshot per this long (default 1m)

	// EnvIgnoreVars names DEBUG_* variables of the program's own, which
	// ConfigFromEnv leaves alone: DEBUG_PPROF,DEBUG_SQL_* (a trailing *
	// matches a prefix; * alone turns the check off).
	EnvIgnoreVars = "DEBUG_IGNORE_VARS"
)

// removedVars are variables debug mode no longer reads, with why.
var removedVars = map[string]string{
	"DEBUG_MAX_LINE_BYTES": "a line is at most 64 KiB",
	"DEBUG_MAX_CATEGORIES": "a session opens at most 128 category files (a quarter of ulimit -n when that is less)",
}

// envPrefix is the prefix of debug mode's variables: ConfigFromEnv reports
// any variable with it that it does not know.
const envPrefix = "DEBUG_"

// knownVars are the variables ConfigFromEnv reads, in the order of the
// documentation.
var knownVars = []string{
	EnvDebugMode, EnvLogDir, EnvSessionID, EnvQueueBytes, EnvFlushInterval,
	EnvBlockWhenFull, EnvDefaultCategory, EnvConsoleLevel, EnvCategories, EnvConsoleCategory, EnvNoColor,
	EnvRedactKeys, EnvFlightRecorder, EnvFlightRecorderBytes, EnvMaxFileBytes, EnvMaxTotalBytes,
	EnvMaxSessions, EnvSync, EnvFileMode, EnvDirMode, EnvStress, EnvStressSlow,
	EnvStressSlowRequestRate, EnvStressProvisioningRate, EnvStressCooldown,
	EnvExecutionTrace, EnvExecutionTraceBytes, EnvExecutionTraceCooldown, EnvIgnoreVars,
}

// fieldVars maps the Config fields that variables set to their variable.
var fieldVars = map[string]string{
	"Dir": EnvLogDir, "SessionID": EnvSessionID, "QueueBytes": EnvQueueBytes,
	"FlushInterval":   EnvFlushInterval,
	"DefaultCategory": EnvDefaultCategory, "MaxFileBytes": EnvMaxFileBytes, "MaxTotalBytes": EnvMaxTotalBytes,
	"MaxSessions": EnvMaxSessions, "FileMode": EnvFileMode, "DirMode": EnvDirMode,
	"FlightRecorder": EnvFlightRecorder, "FlightRecorderBytes": EnvFlightRecorderBytes,
	"Categories": EnvCategories, "SlowThresholds": EnvStressSlow, "SlowRequestRate": EnvStressSlowRequestRate,
	"ProvisioningFailureRate": EnvStressProvisioningRate, "StressCooldown": EnvStressCooldown,
	"ExecutionTrace": EnvExecutionTrace, "ExecutionTraceBytes": EnvExecutionTraceBytes,
	"ExecutionTraceCooldown": EnvExecutionTraceCooldown,
}

// Config configures a Logger. The zero value is a logger with debug mode
// off and a tint console at Info; ConfigFromEnv reads it from the
// environment. Zero numeric fields take the handler package's defaults;
// Validate (and New) refuse values out of the bounds of package handler
// (handler.MinFlushInterval, ...) and of this package (MinFlightRecorder,
// ...).
type Config struct {
	// Enabled turns debug mode on: the category files and the writer.
	Enabled bool
	// Dir is the directory of the session files. Default "./debug_logs".
	Dir string
	// SessionID overrides the session ID (default: UTC start time).
	SessionID string
	// QueueBytes bounds the lines waiting for the writer.
	QueueBytes int
	// FlushInterval bounds how long a line waits before it is written.
	FlushInterval time.Duration
	// BlockWhenFull makes callers wait for room instead of dropping.
	BlockWhenFull bool
	// DefaultCategory receives records without a category ("" = none).
	DefaultCategory string

	// Categories selects the categories written to the files (and watched
	// by stress detection and the flight recorder): names of categories
	// (only those), or names each prefixed with "-" (all but those), not
	// both; nil writes every category. The records of a category left out
	// cost a typed helper one comparison and write nothing. The session
	// file is always written.
	Categories []string

	// ConsoleLevel is the minimum level on the console. Default Info.
	ConsoleLevel slog.Level
	// ConsoleCategories sends the category records below Info (the typed
	// helpers', logger.With("category", ...).Debug) to the console too,
	// when its level takes them. Off, a console at Debug shows the
	// program's own records (those without a category) and the stress
	// events, as at Info, and the category records stay in the files.
	ConsoleCategories bool
	// NoColor turns colour off on the console (it is also off when the
	// console is not a terminal).
	NoColor bool
	// Console, when set, replaces the tint console handler: a service that
	// already logs JSON to stdout keeps its handler. ConsoleLevel and
	// NoColor do not apply to it. It is given the records redacted as the
	// files are (messages, attributes, With and WithGroup).
	//
	// slog's own default handler (slog.Default().Handler() before Init)
	// writes through package log, which Init's slog.SetDefault points back
	// at the Logger: New replaces it by LogConsole, which writes the same
	// lines to package log's writer directly. A handler of yours that wraps
	// slog's default handler cannot be seen into and would deadlock the
	// first log call after Init: wrap LogConsole() instead.
	Console slog.Handler

	// Version is the host program's version, written in session_start.
	Version string

	// MaxFileBytes, MaxTotalBytes and MaxSessions bound the disk: a file
	// rotates at MaxFileBytes, the oldest sessions' files go when the
	// directory passes MaxTotalBytes or holds more than MaxSessions
	// sessions (0: the defaults 64 MiB, 1 GiB, 20; -1: no limit).
	MaxFileBytes  int64
	MaxTotalBytes int64
	MaxSessions   int
	// Sync makes every log call return only once its record is in its
	// file: nothing is lost if the process is killed; each record costs a
	// round trip to the writer.
	Sync bool
	// FileMode and DirMode are the permissions of new files and
	// directories (0: 0640 and 0750).
	FileMode, DirMode os.FileMode

	// FlightRecorder, when positive, keeps the last FlightRecorder of
	// debug records in memory while debug mode is off (within
	// FlightRecorderBytes, default 16 MiB); when a stress event fires they
	// are written to the files, marked recorded_before_trigger, with the
	// event, so the minutes before an incident are on disk even though
	// nobody had debug mode on.
	FlightRecorder      time.Duration
	FlightRecorderBytes int

	// RedactKeys are attribute keys whose values are secret, besides
	// handler.DefaultRedactKeys (authorization, api_key, token, password,
	// secret, cookie, ...), on the console and in the files.
	RedactKeys []string

	// DisableStress turns stress detection off; it is on whenever debug
	// mode is on.
	DisableStress bool
	// SlowThresholds sets, per category, the duration above which a record
	// is slow, over the defaults (requests 5s, engine_selection 2s); zero
	// turns a category's rule off.
	SlowThresholds map[string]time.Duration
	// SlowRequestRate and ProvisioningFailureRate are the sliding-window
	// rules (default 10/1m and 5/1m).
	SlowRequestRate         stress.Rate
	ProvisioningFailureRate stress.Rate
	// StressCooldown is how long an event type stays quiet on the console
	// after it was shown (default 30s; negative: no cooldown; at most
	// MaxStressCooldown); every per-record event is still written to the
	// stress file (see stress.Options.Cooldown).
	StressCooldown time.Duration
	// StressRules are the program's own stress rules.
	StressRules []stress.Rule

	// ExecutionTrace, when positive, keeps the Go runtime's execution
	// trace of about the last ExecutionTrace in memory
	// (runtime/trace.FlightRecorder, within about ExecutionTraceBytes,
	// default 16 MiB), from New to Close. When a stress event at warning or
	// critical fires (with debug mode on, or off with FlightRecorder on),
	// a snapshot is written into the session's directory,
	// <session>_execution_trace_001.trace, and named on the event's line as
	// execution_trace: `go tool trace` opens it. At most one snapshot per
	// ExecutionTraceCooldown (default 1m); the events without one are
	// counted in session_end. Snapshots are written on a goroutine of their
	// own, never by the logging goroutine. While the recorder runs,
	// integration.Middleware runs each request in a runtime/trace task that
	// logs its request_id, and the category records are trace log events
	// too, so a request is found in the trace by its ID. Needs a program
	// built with Go 1.25 or newer, and stress detection on. Not to be
	// confused with FlightRecorder, which keeps debug records.
	ExecutionTrace         time.Duration
	ExecutionTraceBytes    int
	ExecutionTraceCooldown time.Duration

	// envWarnings are what ConfigFromEnv found worth saying but not worth
	// stopping the program for (DEBUG_* variables of other programs); New
	// says them on the console.
	envWarnings []string
}

// DefaultDir is the directory used when Config.Dir is empty.
const DefaultDir = handler.DefaultDir

// ConfigFromEnv reads a Config from the environment variables above and
// checks it whole, so that a bad configuration stops the program at
// start-up, not when debug mode is switched on during an incident. Unset
// or empty variables keep their defaults. Every problem is reported at
// once, each naming the variable, its value and what is accepted: a value
// that does not parse or is out of range (the bounds of Config.Validate),
// a log directory this process cannot create files in (checked when
// DEBUG_LOG_DIR is set or debug mode or the flight recorder is on), and
// any DEBUG_* variable it does not know that is a letter or a few off a
// known name, with the name meant (a typo such as DEBUG_MODEE would
// silently do nothing). Other unknown DEBUG_* variables (another
// program's, such as DEBUG_PPROF) are no error: New says them on the
// console at start-up; list your program's own in DEBUG_IGNORE_VARS.
func ConfigFromEnv() (Config, error) { return ConfigFromEnvWith(nil) }

// ConfigFromEnvWith is ConfigFromEnv with some variables' values replaced,
// for a program whose command-line flags override the environment (a
// -debugMode flag: overrides[EnvDebugMode] = its value). An empty value
// leaves the variable's own (a flag not given). Overrides are checked as
// variables are, and errors name the variable.
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
	cfg := Config{Dir: DefaultDir}
	var errs []error
	failed := map[string]bool{} // variables whose value did not parse
	set := map[string]string{}  // variables set, trimmed
	get := func(name string) (string, bool) {
		v := strings.TrimSpace(env[name])
		if v != "" {
			set[name] = v
		}
		return v, v != ""
	}
	fail := func(name, v, want string) {
		errs = append(errs, fmt.Errorf("%s=%s: %s", name, quote(v), want))
		failed[name] = true
	}
	boolVar := func(name string, dst *bool) {
		if v, ok := get(name); ok {
			b, err := parseBool(v)
			if err != nil {
				fail(name, v, "want true/false (also 1/0, yes/no, on/off)")
				return
			}
			*dst = b
		}
	}
	sizeVar := func(name string, dst *int) {
		if v, ok := get(name); ok {
			n, err := parseSize(v)
			if err != nil {
				fail(name, v, "want a positive size in bytes, such as 8388608 or 8MiB (suffixes KiB, MiB, GiB)")
				return
			}
			*dst = n
		}
	}
	durationVar := func(name string, dst *time.Duration, zeroOK bool, want string) {
		if v, ok := get(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d == 0 && !zeroOK {
				fail(name, v, want)
				return
			}
			*dst = d
		}
	}
	countVar := func(name string, dst *int, want string) {
		if v, ok := get(name); ok {
			if isUnlimited(v) && name == EnvMaxSessions {
				*dst = -1
				return
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				fail(name, v, want)
				return
			}
			*dst = n
		}
	}
	limitVar := func(name string, dst *int64) {
		if v, ok := get(name); ok {
			if isUnlimited(v) {
				*dst = -1
				return
			}
			n, err := parseSize(v)
			if err != nil {
				fail(name, v, "want a size such as 64MiB, or unlimited")
				return
			}
			*dst = int64(n)
		}
	}

	boolVar(EnvDebugMode, &cfg.Enabled)
	if v, ok := get(EnvLogDir); ok {
		cfg.Dir = v
	}
	if v, ok := get(EnvSessionID); ok {
		cfg.SessionID = v
	}
	sizeVar(EnvQueueBytes, &cfg.QueueBytes)
	durationVar(EnvFlushInterval, &cfg.FlushInterval, false,
		fmt.Sprintf("want a duration from %v to %v, such as 200ms or 1s", handler.MinFlushInterval, handler.MaxFlushInterval))
	boolVar(EnvBlockWhenFull, &cfg.BlockWhenFull)
	if v, ok := get(EnvDefaultCategory); ok {
		cfg.DefaultCategory = v
	}
	if v, ok := get(EnvConsoleLevel); ok {
		if err := cfg.ConsoleLevel.UnmarshalText([]byte(v)); err != nil {
			fail(EnvConsoleLevel, v, "want debug, info, warn or error (optionally +N/-N)")
		}
	}
	if v, ok := get(EnvCategories); ok {
		cfg.Categories = splitList(v)
	}
	boolVar(EnvConsoleCategory, &cfg.ConsoleCategories)
	if v, ok := env[EnvNoColor]; ok && v != "" {
		cfg.NoColor = true
	}
	limitVar(EnvMaxFileBytes, &cfg.MaxFileBytes)
	limitVar(EnvMaxTotalBytes, &cfg.MaxTotalBytes)
	countVar(EnvMaxSessions, &cfg.MaxSessions, "want a whole number of at least 1, or unlimited")
	boolVar(EnvSync, &cfg.Sync)
	for _, mv := range []struct {
		name string
		dst  *os.FileMode
	}{{EnvFileMode, &cfg.FileMode}, {EnvDirMode, &cfg.DirMode}} {
		if v, ok := get(mv.name); ok {
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m == 0 || m > 0o777 {
				fail(mv.name, v, "want octal permissions such as 0640")
			} else {
				*mv.dst = os.FileMode(m)
			}
		}
	}
	durationVar(EnvFlightRecorder, &cfg.FlightRecorder, true,
		fmt.Sprintf("want a duration such as 2m, from %v to %v (0 for off)", MinFlightRecorder, MaxFlightRecorder))
	sizeVar(EnvFlightRecorderBytes, &cfg.FlightRecorderBytes)
	if v, ok := get(EnvRedactKeys); ok {
		cfg.RedactKeys = splitList(v)
	}
	stressOn := true
	boolVar(EnvStress, &stressOn)
	cfg.DisableStress = !stressOn
	if v, ok := get(EnvStressSlow); ok {
		m, err := parseThresholds(v)
		if err != nil {
			fail(EnvStressSlow, v, "want CATEGORY=DURATION pairs separated by commas, such as requests=5s,engine_selection=2s")
		} else {
			cfg.SlowThresholds = m
		}
	}
	for _, rv := range []struct {
		name string
		dst  *stress.Rate
	}{{EnvStressSlowRequestRate, &cfg.SlowRequestRate}, {EnvStressProvisioningRate, &cfg.ProvisioningFailureRate}} {
		if v, ok := get(rv.name); ok {
			r, err := stress.ParseRate(v)
			if err != nil {
				fail(rv.name, v, err.Error())
			} else {
				*rv.dst = r
			}
		}
	}
	durationVar(EnvStressCooldown, &cfg.StressCooldown, true,
		fmt.Sprintf("want a duration such as 30s, at most %v (0 for the default)", MaxStressCooldown))
	durationVar(EnvExecutionTrace, &cfg.ExecutionTrace, true,
		fmt.Sprintf("want a duration such as 10s, from %v to %v (0 for off)", MinExecutionTrace, MaxExecutionTrace))
	if v := set[EnvExecutionTrace]; cfg.ExecutionTrace > 0 && !executionTraceSupported {
		errs = append(errs, fmt.Errorf("%s=%s needs a program built with Go 1.25 or newer (runtime/trace.FlightRecorder); this one is built with %s: unset it, or build with a newer Go",
			EnvExecutionTrace, v, runtime.Version()))
		failed[EnvExecutionTrace] = true
	}
	sizeVar(EnvExecutionTraceBytes, &cfg.ExecutionTraceBytes)
	durationVar(EnvExecutionTraceCooldown, &cfg.ExecutionTraceCooldown, true,
		fmt.Sprintf("want a duration such as 1m, from %v to %v (0 for the default, 1m)", MinExecutionTraceCooldown, MaxExecutionTraceCooldown))

	// Values that parse but are out of range, alone or together.
	for _, p := range cfg.problems() {
		name, ok := fieldVars[p.field]
		if !ok {
			errs = append(errs, p)
			continue
		}
		if failed[name] {
			continue // already reported
		}
		want := "want " + varNames.Replace(p.want)
		if p.field == "SlowThresholds" {
			want = fmt.Sprintf("category %s: %s", quote(fmt.Sprint(p.value)), want)
		}
		if v, ok := set[name]; ok {
			errs = append(errs, fmt.Errorf("%s=%s: %s", name, quote(v), want))
		} else {
			errs = append(errs, fmt.Errorf("%s (unset: the default, %v): %s", name, p.value, want))
		}
		failed[name] = true
	}
	// The directory, when debug mode may write there.
	if _, dirSet := set[EnvLogDir]; (dirSet || cfg.Enabled || cfg.FlightRecorder > 0) && !failed[EnvLogDir] {
		if err := handler.CheckDir(cfg.Dir); err != nil {
			name := EnvLogDir + " (unset: the default)"
			if dirSet {
				name = fmt.Sprintf("%s=%s", EnvLogDir, quote(cfg.Dir))
			}
			errs = append(errs, fmt.Errorf("%s: %v: want a directory this process can create files in", name, err))
		}
	}
	unknown, warnings := unknownVars(env)
	errs = append(errs, unknown...)
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("slogdebug: bad configuration: %w", err)
	}
	cfg.envWarnings = warnings
	return cfg, nil
}

// varNames names the Config fields, in what is accepted, by the variables
// that set them.
var varNames = func() *strings.Replacer {
	fields := make([]string, 0, len(fieldVars))
	for field := range fieldVars {
		if field != "Dir" { // a word too common to replace
			fields = append(fields, field)
		}
	}
	// Longest first: the replacer tries its pairs in order.
	sort.Slice(fields, func(i, j int) bool {
		if len(fields[i]) != len(fields[j]) {
			return len(fields[i]) > len(fields[j])
		}
		return fields[i] < fields[j]
	})
	pairs := make([]string, 0, 2*len(fields)+2)
	for _, field := range fields {
		pairs = append(pairs, field, fieldVars[field])
	}
	// The category handler's line limit, which no variable sets.
	pairs = append(pairs, "MaxLineBytes", "the line limit")
	return strings.NewReplacer(pairs...)
}()

// unknownVars reports the DEBUG_* variables that are neither debug mode's
// nor listed in DEBUG_IGNORE_VARS, sorted: as errors those a letter or a
// few off a known name (a typo, which would silently do nothing), with the
// name meant, and those no longer used; as warnings the others, which are
// most likely another program's (DEBUG_PPROF) and must not stop a
// deployment that sets them.
func unknownVars(env map[string]string) (errs []error, warnings []string) {
	known := map[string]bool{}
	for _, name := range knownVars {
		known[name] = true
	}
	var ignore []string
	for _, pat := range strings.Split(env[EnvIgnoreVars], ",") {
		pat = strings.TrimSpace(pat)
		switch {
		case pat == "":
		case pat == "*":
			return errs, nil
		case known[pat]:
			errs = append(errs, fmt.Errorf("%s=%s: %s is debug mode's own variable: want only your program's DEBUG_* variables (a trailing * matches a prefix)", EnvIgnoreVars, quote(env[EnvIgnoreVars]), pat))
		case !strings.HasPrefix(pat, envPrefix):
			errs = append(errs, fmt.Errorf("%s=%s: %s: want only DEBUG_* variables, such as DEBUG_PPROF or DEBUG_SQL_* (other variables are never read)", EnvIgnoreVars, quote(env[EnvIgnoreVars]), quoteName(pat)))
		default:
			ignore = append(ignore, pat)
		}
	}
	var unknown []string
	for name := range env {
		if !strings.HasPrefix(name, envPrefix) || known[name] || ignored(name, ignore) {
			continue
		}
		unknown = append(unknown, name)
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		if why, ok := removedVars[name]; ok {
			errs = append(errs, fmt.Errorf("%s: no longer a debug mode variable: %s; remove it", name, why))
			continue
		}
		suffix := strings.TrimPrefix(name, envPrefix)
		if near := closest(suffix, knownSuffixes(), max(2, len(suffix)/3)); near != "" && len(suffix) <= maxSuggestLen {
			errs = append(errs, fmt.Errorf("%s: not a debug mode variable; did you mean %s%s? (a variable of your program's own: list it in %s)",
				quoteName(name), envPrefix, near, EnvIgnoreVars))
			continue
		}
		warnings = append(warnings, fmt.Sprintf("%s: not a debug mode variable, left alone (the variables are %s; list your program's own in %s to silence this)",
			quoteName(name), strings.Join(knownVars, ", "), EnvIgnoreVars))
	}
	return errs, warnings
}

// maxQuoted is how much of a value an error quotes.
const maxQuoted = 128

// quote quotes v for an error, cut to maxQuoted bytes: a huge value
// repeated in every message helps nobody.
func quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	return strconv.Quote(v[:maxQuoted]) + fmt.Sprintf("... (%d bytes)", len(v))
}

// quoteName writes a variable's name as it is when it is printable ASCII,
// quoted (and cut) otherwise.
func quoteName(name string) string {
	if len(name) <= maxQuoted && !strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return name
	}
	return quote(name)
}

// ignored reports whether name matches one of DEBUG_IGNORE_VARS' patterns.
func ignored(name string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(name, prefix) || p == name {
			return true
		}
	}
	return false
}

// knownSuffixes are the known variables without DEBUG_ (NO_COLOR as it is).
func knownSuffixes() []string {
	out := make([]string, 0, len(knownVars))
	for _, name := range knownVars {
		if suffix, ok := strings.CutPrefix(name, envPrefix); ok {
			out = append(out, suffix)
		}
	}
	return out
}

// splitList reads a comma-separated list, without its blank items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	case "0", "f", "false", "n", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

func isUnlimited(s string) bool {
	switch strings.ToLower(s) {
	case "-1", "unlimited", "none", "off":
		return true
	}
	return false
}

// parseSize parses "4096", "64KiB", "8MiB", "1GiB" (K, M and G alone are
// binary too).
func parseSize(s string) (int, error) {
	num := strings.TrimRight(s, "KMGkmgiIbB ")
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	mult := 1
	switch unit {
	case "", "b":
	case "k", "kib", "kb":
		mult = 1 << 10
	case "m", "mib", "mb":
		mult = 1 << 20
	case "g", "gib", "gb":
		mult = 1 << 30
	default:
		return 0, errors.New("unknown unit")
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, errors.New("not a positive size")
	}
	return n * mult, nil
}

// flightRecorderBytes is the flight recorder's memory budget.
func (c Config) flightRecorderBytes() int {
	if c.FlightRecorderBytes > 0 {
		return c.FlightRecorderBytes
	}
	return 16 << 20
}

// parseThresholds reads "requests=5s,engine_selection=2s".
func parseThresholds(s string) (map[string]time.Duration, error) {
	m := make(map[string]time.Duration)
	for _, pair := range strings.Split(s, ",") {
		cat, d, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || strings.TrimSpace(cat) == "" {
			return nil, errors.New("not CATEGORY=DURATION")
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur < 0 {
			return nil, errors.New("bad duration")
		}
		m[strings.TrimSpace(cat)] = dur
	}
	return m, nil
}

// stressOptions maps the config onto the stress handler's options.
func (c Config) stressOptions() stress.Options {
	slow := map[string]time.Duration{
		category.Requests:        stress.DefaultSlowRequest,
		category.EngineSelection: stress.DefaultSlowEngineSelection,
	}
	for cat, d := range c.SlowThresholds {
		slow[cat] = d
	}
	return stress.Options{
		Slow:                    slow,
		SlowRequestRate:         c.SlowRequestRate,
		ProvisioningFailureRate: c.ProvisioningFailureRate,
		Cooldown:                c.StressCooldown,
		Rules:                   c.StressRules,
	}
}

// handlerOptions maps the config onto the category handler's options.
func (c Config) handlerOptions() handler.Options {
	return handler.Options{
		Dir:             c.Dir,
		SessionID:       c.SessionID,
		Level:           slog.LevelDebug,
		Stamp:           contextStamp,
		DefaultCategory: c.DefaultCategory,
		QueueBytes:      c.QueueBytes,
		BlockWhenFull:   c.BlockWhenFull,
		FlushInterval:   c.FlushInterval,
		Version:         c.Version,
		RedactKeys:      c.RedactKeys,
		MaxFileBytes:    c.MaxFileBytes,
		MaxTotalBytes:   c.MaxTotalBytes,
		MaxSessions:     c.MaxSessions,
		Sync:            c.Sync,
		FileMode:        c.FileMode,
		DirMode:         c.DirMode,
	}
}

// sessionAttrs is the facade's part of the configuration written in
// session_start (and debug_enabled), as it is in effect for the files
// being opened: debugMode is whether debug mode is on for them (off for a
// flight-recorder dump); the handler adds its own effective options.
func (l *Logger) sessionAttrs(debugMode bool) []slog.Attr {
	c := l.cfg
	attrs := []slog.Attr{
		slog.Bool("enabled", debugMode),
		slog.String("console", l.consoleName),
	}
	if l.cfg.Console == nil { // tint's settings; another console has its own
		attrs = append(attrs,
			slog.String("console_level", c.ConsoleLevel.String()),
			slog.Bool("no_color", l.noColor))
	}
	if len(c.Categories) > 0 {
		attrs = append(attrs, slog.String("categories", strings.Join(c.Categories, ",")))
	}
	attrs = append(attrs, slog.Bool("console_categories", c.ConsoleCategories))
	stressOn := !c.DisableStress && (debugMode || c.FlightRecorder > 0)
	attrs = append(attrs,
		slog.Bool("stress", stressOn),
		slog.Duration("flight_recorder", c.FlightRecorder))
	if c.ExecutionTrace > 0 {
		attrs = append(attrs, slog.Duration("execution_trace", c.ExecutionTrace))
	}
	if stressOn {
		slow := c.stressOptions().Slow
		names := make([]string, 0, len(slow))
		for cat := range slow {
			names = append(names, cat)
		}
		sort.Strings(names)
		rules := make([]slog.Attr, 0, len(names))
		for _, cat := range names {
			rules = append(rules, slog.Duration(cat, slow[cat]))
		}
		attrs = append(attrs, slog.Attr{Key: "stress_slow", Value: slog.GroupValue(rules...)})
	}
	return attrs
}
