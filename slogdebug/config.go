package slogdebug

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/stress"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvDebugMode       = "DEBUG_MODE"             // true/false, 1/0, yes/no, on/off
	EnvLogDir          = "DEBUG_LOG_DIR"          // directory of the session files
	EnvSessionID       = "DEBUG_SESSION_ID"       // overrides the UTC start-time session ID
	EnvQueueBytes      = "DEBUG_QUEUE_BYTES"      // bytes, or with a KiB/MiB/GiB suffix
	EnvFlushInterval   = "DEBUG_FLUSH_INTERVAL"   // Go duration: 200ms, 1s
	EnvMaxLineBytes    = "DEBUG_MAX_LINE_BYTES"   // bytes, or with a KiB/MiB suffix
	EnvBlockWhenFull   = "DEBUG_BLOCK_WHEN_FULL"  // true: wait for room instead of dropping
	EnvMaxCategories   = "DEBUG_MAX_CATEGORIES"   // files a session opens at most
	EnvDefaultCategory = "DEBUG_DEFAULT_CATEGORY" // category of records that carry none
	EnvConsoleLevel    = "DEBUG_CONSOLE_LEVEL"    // debug, info, warn, error (or info+2, ...)
	EnvNoColor         = "NO_COLOR"               // any non-empty value: no colour on the console

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
)

// Config configures a Logger. The zero value is a logger with debug mode
// off and a tint console at Info; ConfigFromEnv reads it from the
// environment. Zero numeric fields take the handler package's defaults.
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
	// MaxLineBytes caps one line; longer records are cut and marked.
	MaxLineBytes int
	// BlockWhenFull makes callers wait for room instead of dropping.
	BlockWhenFull bool
	// MaxCategories caps the category files of a session.
	MaxCategories int
	// DefaultCategory receives records without a category ("" = none).
	DefaultCategory string

	// ConsoleLevel is the minimum level on the console. Default Info.
	ConsoleLevel slog.Level
	// NoColor turns colour off on the console (it is also off when the
	// console is not a terminal).
	NoColor bool
	// Console, when set, replaces the tint console handler: a service that
	// already logs JSON to stdout keeps its handler. ConsoleLevel and
	// NoColor do not apply to it.
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
	// secret, cookie, ...), on the console and in the files. NoRedaction
	// turns redaction off.
	RedactKeys  []string
	NoRedaction bool

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
	// after it was shown (default 30s); every per-record event is still
	// written to the stress file (see stress.Options.Cooldown).
	StressCooldown time.Duration
	// StressRules are the program's own stress rules.
	StressRules []stress.Rule
}

// DefaultDir is the directory used when Config.Dir is empty.
const DefaultDir = handler.DefaultDir

// ConfigFromEnv reads a Config from the environment variables above. Unset
// or empty variables keep their defaults; a bad value is an error that
// names the variable, the value and what is accepted. All bad variables are
// reported at once.
func ConfigFromEnv() (Config, error) {
	return configFromLookup(os.LookupEnv)
}

func configFromLookup(lookup func(string) (string, bool)) (Config, error) {
	cfg := Config{Dir: DefaultDir}
	var errs []error
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	boolVar := func(name string, dst *bool) {
		if v, ok := get(name); ok {
			b, err := parseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want true/false (also 1/0, yes/no, on/off)", name, v))
				return
			}
			*dst = b
		}
	}
	sizeVar := func(name string, dst *int) {
		if v, ok := get(name); ok {
			n, err := parseSize(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive size in bytes, such as 8388608 or 8MiB (suffixes KiB, MiB, GiB)", name, v))
				return
			}
			*dst = n
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
	if v, ok := get(EnvFlushInterval); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 200ms or 1s", EnvFlushInterval, v))
		} else {
			cfg.FlushInterval = d
		}
	}
	sizeVar(EnvMaxLineBytes, &cfg.MaxLineBytes)
	boolVar(EnvBlockWhenFull, &cfg.BlockWhenFull)
	if v, ok := get(EnvMaxCategories); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number of at least 1", EnvMaxCategories, v))
		} else {
			cfg.MaxCategories = n
		}
	}
	if v, ok := get(EnvDefaultCategory); ok {
		cfg.DefaultCategory = v
	}
	if v, ok := get(EnvConsoleLevel); ok {
		if err := cfg.ConsoleLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want debug, info, warn or error (optionally +N/-N)", EnvConsoleLevel, v))
		}
	}
	if _, ok := get(EnvNoColor); ok {
		cfg.NoColor = true
	}
	limitVar := func(name string, dst *int64) {
		if v, ok := get(name); ok {
			if isUnlimited(v) {
				*dst = -1
				return
			}
			n, err := parseSize(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want a size such as 64MiB, or unlimited", name, v))
				return
			}
			*dst = int64(n)
		}
	}
	limitVar(EnvMaxFileBytes, &cfg.MaxFileBytes)
	limitVar(EnvMaxTotalBytes, &cfg.MaxTotalBytes)
	if v, ok := get(EnvMaxSessions); ok {
		if isUnlimited(v) {
			cfg.MaxSessions = -1
		} else if n, err := strconv.Atoi(v); err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number of at least 1, or unlimited", EnvMaxSessions, v))
		} else {
			cfg.MaxSessions = n
		}
	}
	boolVar(EnvSync, &cfg.Sync)
	for _, mv := range []struct {
		name string
		dst  *os.FileMode
	}{{EnvFileMode, &cfg.FileMode}, {EnvDirMode, &cfg.DirMode}} {
		if v, ok := get(mv.name); ok {
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil || m == 0 || m > 0o777 {
				errs = append(errs, fmt.Errorf("%s=%q: want octal permissions such as 0640", mv.name, v))
			} else {
				*mv.dst = os.FileMode(m)
			}
		}
	}
	if v, ok := get(EnvFlightRecorder); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 2m (0 for off)", EnvFlightRecorder, v))
		} else {
			cfg.FlightRecorder = d
		}
	}
	sizeVar(EnvFlightRecorderBytes, &cfg.FlightRecorderBytes)
	if v, ok := get(EnvRedactKeys); ok {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				cfg.RedactKeys = append(cfg.RedactKeys, k)
			}
		}
	}
	stressOn := true
	boolVar(EnvStress, &stressOn)
	cfg.DisableStress = !stressOn
	if v, ok := get(EnvStressSlow); ok {
		m, err := parseThresholds(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want CATEGORY=DURATION pairs separated by commas, such as requests=5s,engine_selection=2s", EnvStressSlow, v))
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
				errs = append(errs, fmt.Errorf("%s=%q: %v", rv.name, v, err))
			} else {
				*rv.dst = r
			}
		}
	}
	if v, ok := get(EnvStressCooldown); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 30s (0 for the default)", EnvStressCooldown, v))
		} else {
			cfg.StressCooldown = d
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("slogdebug: bad configuration: %w", err)
	}
	return cfg, nil
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
		CategoryRequests:        stress.DefaultSlowRequest,
		CategoryEngineSelection: stress.DefaultSlowEngineSelection,
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
		DefaultCategory: c.DefaultCategory,
		QueueBytes:      c.QueueBytes,
		BlockWhenFull:   c.BlockWhenFull,
		FlushInterval:   c.FlushInterval,
		MaxLineBytes:    c.MaxLineBytes,
		MaxCategories:   c.MaxCategories,
		Version:         c.Version,
		RedactKeys:      c.RedactKeys,
		NoRedaction:     c.NoRedaction,
		MaxFileBytes:    c.MaxFileBytes,
		MaxTotalBytes:   c.MaxTotalBytes,
		MaxSessions:     c.MaxSessions,
		Sync:            c.Sync,
		FileMode:        c.FileMode,
		DirMode:         c.DirMode,
	}
}

// sessionAttrs is the facade's part of the configuration written in
// session_start; the handler adds its own effective options.
func sessionAttrs(c Config) []slog.Attr {
	console := "tint"
	if c.Console != nil {
		console = fmt.Sprintf("%T", c.Console)
	}
	return []slog.Attr{
		slog.Bool("enabled", c.Enabled),
		slog.String("console", console),
		slog.String("console_level", c.ConsoleLevel.String()),
		slog.Bool("no_color", c.NoColor),
		slog.Bool("stress", c.Enabled && !c.DisableStress),
		slog.Duration("flight_recorder", c.FlightRecorder),
	}
}
