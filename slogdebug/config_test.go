package slogdebug

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/stressevent"
)

// strict is env with DEBUG_STRICT=true: every problem an error at once.
func strict(env map[string]string) map[string]string {
	out := map[string]string{"DEBUG_STRICT": "true"}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// settings is cfg without what ConfigFromEnv found besides them, which it
// checks is nothing.
func settings(t *testing.T, cfg Config) Config {
	t.Helper()
	require.NotNil(t, cfg.env)
	assert.Empty(t, cfg.env.problems)
	assert.Empty(t, cfg.env.warnings)
	cfg.env = nil
	return cfg
}

func TestConfigFromEnvDefaults(t *testing.T) {
	cfg, err := configFromMap(nil)
	require.NoError(t, err)
	assert.Equal(t, Config{Dir: "./debug_logs"}, settings(t, cfg))
}

func TestConfigFromEnvValues(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "debug_logs")
	cfg, err := configFromMap(map[string]string{
		"DEBUG_MODE":                     " yes ",
		"DEBUG_LOG_DIR":                  dir,
		"DEBUG_SESSION_ID":               "incident-7",
		"DEBUG_QUEUE_BYTES":              "16MiB",
		"DEBUG_FLUSH_INTERVAL":           "50ms",
		"DEBUG_BLOCK_WHEN_FULL":          "on",
		"DEBUG_DEFAULT_CATEGORY":         "general",
		"DEBUG_CONSOLE_LEVEL":            "warn",
		"NO_COLOR":                       "1",
		"DEBUG_MAX_FILE_BYTES":           "32MiB",
		"DEBUG_MAX_TOTAL_BYTES":          "unlimited",
		"DEBUG_MAX_SESSIONS":             "5",
		"DEBUG_SYNC":                     "true",
		"DEBUG_FILE_MODE":                "0600",
		"DEBUG_DIR_MODE":                 "700",
		"DEBUG_REDACT_KEYS":              "x-session, pin",
		"DEBUG_FLIGHT_RECORDER":          "2m",
		"DEBUG_FLIGHT_RECORDER_BYTES":    "4MiB",
		"DEBUG_STRESS_SLOW_REQUEST_RATE": "3/10s",
	})
	require.NoError(t, err)
	assert.Equal(t, Config{
		Enabled:             true,
		Dir:                 dir,
		SessionID:           "incident-7",
		QueueBytes:          16 << 20,
		FlushInterval:       50 * time.Millisecond,
		BlockWhenFull:       true,
		DefaultCategory:     "general",
		ConsoleLevel:        slog.LevelWarn,
		NoColor:             true,
		MaxFileBytes:        32 << 20,
		MaxTotalBytes:       -1,
		MaxSessions:         5,
		Sync:                true,
		FileMode:            0o600,
		DirMode:             0o700,
		RedactKeys:          []string{"x-session", "pin"},
		FlightRecorder:      2 * time.Minute,
		FlightRecorderBytes: 4 << 20,
		SlowRequestRate:     "3/10s",
	}, settings(t, cfg))
}

func TestConfigFromEnvBooleans(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "ON": true, "Yes": true, "false": false, "0": false, "off": false, "no": false, "": false} {
		cfg, err := configFromMap(map[string]string{"DEBUG_MODE": v})
		require.NoError(t, err, v)
		assert.Equal(t, want, cfg.Enabled, v)
	}
}

func TestConfigFromEnvRejectsBadValues(t *testing.T) {
	_, err := configFromMap(strict(map[string]string{
		"DEBUG_MODE":            "maybe",
		"DEBUG_QUEUE_BYTES":     "lots",
		"DEBUG_FLUSH_INTERVAL":  "-1s",
		"DEBUG_CONSOLE_LEVEL":   "loud",
		"DEBUG_FILE_MODE":       "rw-r-----",
		"DEBUG_MAX_SESSIONS":    "0",
		"DEBUG_FLIGHT_RECORDER": "forever",
	}))
	require.Error(t, err)
	for _, want := range []string{
		`DEBUG_MODE="maybe": want true/false`,
		`DEBUG_QUEUE_BYTES="lots": want a positive size in bytes`,
		`DEBUG_FLUSH_INTERVAL="-1s": want a duration from 1ms to 1h0m0s`,
		`DEBUG_CONSOLE_LEVEL="loud": want debug, info, warn or error`,
		`DEBUG_FILE_MODE="rw-r-----": want octal permissions`,
		`DEBUG_MAX_SESSIONS="0"`,
		`DEBUG_FLIGHT_RECORDER="forever": want a duration`,
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestConfigFromEnvUsesTheProcessEnvironment(t *testing.T) {
	t.Setenv("DEBUG_MODE", "true")
	t.Setenv("DEBUG_LOG_DIR", "/tmp/x")
	cfg, err := ConfigFromEnv()
	require.NoError(t, err)
	assert.True(t, cfg.Enabled)
	assert.Equal(t, "/tmp/x", cfg.Dir)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "4096": 4096, "64KiB": 64 << 10, "64k": 64 << 10, "8MiB": 8 << 20, "8 MiB": 8 << 20, "1GiB": 1 << 30, "2M": 2 << 20} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "-5", "MiB", "1.5MiB", "10TiB", "99999999999G"} {
		_, err := parseSize(in)
		assert.Error(t, err, in)
	}
}

// TestConfigFromEnvCatchesWhatDebugModeWouldRefuse: each of these values
// used to pass ConfigFromEnv and fail later, in New or when debug mode was
// switched on during an incident; each is now found at start-up, named with
// its value and what is accepted: with DEBUG_STRICT=true, an error.
func TestConfigFromEnvCatchesWhatDebugModeWouldRefuse(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DEBUG_SESSION_ID": "incident 7"}, `DEBUG_SESSION_ID="incident 7": want 1 to 64 ASCII letters, digits, '_' or '-'`},
		{map[string]string{"DEBUG_SESSION_ID": strings.Repeat("x", 65)}, `want 1 to 64 ASCII letters`},
		{map[string]string{"DEBUG_MAX_TOTAL_BYTES": "100MiB"}, `DEBUG_MAX_TOTAL_BYTES="100MiB": want -1 (no budget) or at least twice DEBUG_MAX_FILE_BYTES (67108864)`},
		{map[string]string{"DEBUG_MAX_FILE_BYTES": "1GiB"}, `DEBUG_MAX_TOTAL_BYTES (unset: the default, 1073741824): want -1 (no budget) or at least twice DEBUG_MAX_FILE_BYTES (1073741824)`},
		{map[string]string{"DEBUG_MAX_FILE_BYTES": "1KiB"}, `DEBUG_MAX_FILE_BYTES="1KiB": want -1 (no cap) or the line limit (65536) to`},
		{map[string]string{"DEBUG_FLUSH_INTERVAL": "1ns"}, `DEBUG_FLUSH_INTERVAL="1ns": want 1ms to 1h0m0s`},
		{map[string]string{"DEBUG_FLUSH_INTERVAL": "24h"}, `DEBUG_FLUSH_INTERVAL="24h": want 1ms to 1h0m0s`},
		{map[string]string{"DEBUG_FLUSH_INTERVAL": "0"}, `DEBUG_FLUSH_INTERVAL="0": want a duration from 1ms to 1h0m0s`},
		{map[string]string{"DEBUG_QUEUE_BYTES": "100"}, `DEBUG_QUEUE_BYTES="100": want 256 to 1073741824 bytes`},
		{map[string]string{"DEBUG_QUEUE_BYTES": "2GiB"}, `DEBUG_QUEUE_BYTES="2GiB": want 256 to 1073741824 bytes`},
		{map[string]string{"DEBUG_FILE_MODE": "0200"}, `DEBUG_FILE_MODE="0200": want permission bits that let the owner read and write`},
		{map[string]string{"DEBUG_DIR_MODE": "0500"}, `DEBUG_DIR_MODE="0500": want permission bits that let the owner list, create and remove`},
		{map[string]string{"DEBUG_FLIGHT_RECORDER": "1ms"}, `DEBUG_FLIGHT_RECORDER="1ms": want 0 (off) or 1s to 24h0m0s`},
		{map[string]string{"DEBUG_FLIGHT_RECORDER": "1000h"}, `DEBUG_FLIGHT_RECORDER="1000h": want 0 (off) or 1s to 24h0m0s`},
		{map[string]string{"DEBUG_FLIGHT_RECORDER_BYTES": "1KiB"}, `DEBUG_FLIGHT_RECORDER_BYTES="1KiB": want 0 (the default, 16MiB) or 65536 to 1073741824 bytes`},
		{map[string]string{"DEBUG_STRESS_SLOW_REQUEST_RATE": "100000/1m"}, `DEBUG_STRESS_SLOW_REQUEST_RATE="100000/1m": want a count of 1 to 65535`},
		{map[string]string{"DEBUG_STRESS_COOLDOWN": "100h"}, `DEBUG_STRESS_COOLDOWN="100h": want at most 24h0m0s`},
		{map[string]string{"DEBUG_STRESS_STALL": "2h"}, `DEBUG_STRESS_STALL="2h": want a duration from 100ms to 1h0m0s, such as 5s (0 for off)`},
		{map[string]string{"DEBUG_STRESS_STALL": "10ms"}, `DEBUG_STRESS_STALL="10ms": want a duration from 100ms to 1h0m0s`},
		{map[string]string{"DEBUG_STRESS_STALL": "-5s"}, `DEBUG_STRESS_STALL="-5s": want a duration from 100ms to 1h0m0s`},
		{map[string]string{"DEBUG_STRESS_SLOW": "request=3s"}, `DEBUG_STRESS_SLOW="request=3s": category "request": want a category; did you mean "requests"?`},
		{map[string]string{"DEBUG_STRESS_SLOW": "Requests=3s"}, `DEBUG_STRESS_SLOW="Requests=3s": category "Requests": want a category as the files name it (lower-case ASCII letters, digits, '_' and '-'), such as "requests"`},
		{map[string]string{"DEBUG_STRESS_SLOW": "engine_selecton=1s,streams=30s"}, `category "engine_selecton": want a category; did you mean "engine_selection"?`},
		{map[string]string{"DEBUG_LOG_DIR": "/dev/null/logs"}, `DEBUG_LOG_DIR="/dev/null/logs": log directory "/dev/null/logs": /dev/null is not a directory: want a directory this process can create files in`},
	} {
		_, err := configFromMap(strict(tc.env))
		require.Error(t, err, "%v", tc.env)
		assert.ErrorContains(t, err, tc.want, "%v", tc.env)
		assert.Equal(t, 1, strings.Count(err.Error(), "\n")+1, "one problem, reported once: %v", err)
	}
}

func TestConfigFromEnvNamesRemovedVariables(t *testing.T) {
	_, err := configFromMap(strict(map[string]string{"DEBUG_MAX_LINE_BYTES": "4096"}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "DEBUG_MAX_LINE_BYTES: no longer a debug mode variable: a line is at most 64 KiB; remove it")
}

func TestConfigFromEnvReportsEveryProblemAtOnce(t *testing.T) {
	_, err := configFromMap(strict(map[string]string{
		"DEBUG_SESSION_ID":      "a/b",
		"DEBUG_FLUSH_INTERVAL":  "1ns",
		"DEBUG_QUEUE_BYTES":     "100",
		"DEBUG_MAX_TOTAL_BYTES": "1MiB",
		"DEBUG_MODEE":           "true",
		"DEBUG_STRESS_SLOW":     "request=1s",
	}))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	assert.Len(t, lines, 6, err.Error())
	for _, name := range []string{"DEBUG_SESSION_ID", "DEBUG_FLUSH_INTERVAL", "DEBUG_QUEUE_BYTES", "DEBUG_MAX_TOTAL_BYTES", "DEBUG_MODEE", "DEBUG_STRESS_SLOW"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestConfigFromEnvAcceptsTheBounds(t *testing.T) {
	cfg, err := configFromMap(map[string]string{
		"DEBUG_FLUSH_INTERVAL":        "1ms",
		"DEBUG_QUEUE_BYTES":           "1GiB",
		"DEBUG_MAX_FILE_BYTES":        "unlimited",
		"DEBUG_FLIGHT_RECORDER":       "24h",
		"DEBUG_FLIGHT_RECORDER_BYTES": "64KiB",
		"DEBUG_STRESS_SLOW":           "requests=1s,upstream_calls=2s,engine_selection=0",
		"DEBUG_STRESS_COOLDOWN":       "0",
		"DEBUG_FILE_MODE":             "0600",
		"DEBUG_DIR_MODE":              "0700",
	})
	require.NoError(t, err)
	assert.NoError(t, cfg.Validate())
	assert.Equal(t, 2*time.Second, cfg.SlowThresholds["upstream_calls"], "a category of the program's own")
}

// TestConfigFromEnvReportsUnknownVariables: a typo does nothing silently
// no more; a program's own DEBUG_* variables are listed in
// DEBUG_IGNORE_VARS.
func TestConfigFromEnvReportsUnknownVariables(t *testing.T) {
	_, err := configFromMap(strict(map[string]string{"DEBUG_MODEE": "true", "DEBUG_FLUSH": "1s", "DEBUG_PPROF": "1", "DEBUGGER": "x", "NODE_DEBUG": "x"}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "DEBUG_MODEE: not a debug mode variable; did you mean DEBUG_MODE? (a variable of your program's own: list it in DEBUG_IGNORE_VARS)")
	assert.ErrorContains(t, err, "DEBUG_FLUSH: not a debug mode variable; did you mean DEBUG_FLUSH_INTERVAL?")
	assert.NotContains(t, err.Error(), "DEBUG_PPROF", "far from every name: another program's, not a typo")
	assert.NotContains(t, err.Error(), "DEBUGGER")
	assert.NotContains(t, err.Error(), "NODE_DEBUG")

	// Another program's DEBUG_* variable does not stop the program: it is
	// said on the console at start-up.
	cfg, err := configFromMap(map[string]string{"DEBUG_PPROF": "1", "DEBUG_MODE": "false"})
	require.NoError(t, err)
	var console bytes.Buffer
	l, err := New(cfg, &console)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	assert.Contains(t, console.String(), "debug mode: DEBUG_PPROF: not a debug mode variable, left alone (the variables are DEBUG_MODE, DEBUG_LOG_DIR,")
	assert.Contains(t, console.String(), "list your program's own in DEBUG_IGNORE_VARS to silence this")

	_, err = configFromMap(strict(map[string]string{"DEBUG_PPROF": "1", "DEBUG_SQL_HOST": "db", "DEBUG_SQL_PORT": "1", "DEBUG_IGNORE_VARS": "DEBUG_PPROF, DEBUG_SQL_*"}))
	assert.NoError(t, err)
	_, err = configFromMap(strict(map[string]string{"DEBUG_ANYTHING": "1", "DEBUG_IGNORE_VARS": "*"}))
	assert.NoError(t, err)
	_, err = configFromMap(strict(map[string]string{"DEBUG_IGNORE_VARS": "DEBUG_MODE,PATH"}))
	assert.ErrorContains(t, err, `DEBUG_IGNORE_VARS="DEBUG_MODE,PATH": DEBUG_MODE is debug mode's own variable`)
	assert.ErrorContains(t, err, `PATH: want only DEBUG_* variables`)
}

// TestConfigFromEnvChecksTheDirectoryOnlyWhenStrict: with DEBUG_STRICT the
// directory is checked at start-up; otherwise only turning debug mode on
// looks at it (New, SetDebug).
func TestConfigFromEnvChecksTheDirectoryOnlyWhenStrict(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := configFromMap(strict(map[string]string{"DEBUG_LOG_DIR": file}))
	assert.ErrorContains(t, err, "DEBUG_LOG_DIR=")
	assert.ErrorContains(t, err, "is not a directory")
	_, err = configFromMap(strict(map[string]string{"DEBUG_LOG_DIR": filepath.Join(t.TempDir(), "a", "b")}))
	assert.NoError(t, err, "a missing directory New can create")
	cfg, err := configFromMap(map[string]string{"DEBUG_LOG_DIR": file, "DEBUG_MODE": "true"})
	require.NoError(t, err)
	assert.Equal(t, Config{Enabled: true, Dir: file}, settings(t, cfg), "not looked at")
}

// TestNewRefusesABadConfigWithDebugModeOff: a bad value used to be found
// only when debug mode was switched on at run time.
func TestNewRefusesABadConfigWithDebugModeOff(t *testing.T) {
	for _, cfg := range []Config{
		{QueueBytes: 10},
		{FlushInterval: time.Nanosecond},
		{SessionID: "a b"},
		{MaxTotalBytes: 1 << 20},
		{FlightRecorder: time.Millisecond},
		{SlowThresholds: map[string]time.Duration{"request": time.Second}},
		{SlowRequestRate: "10 per minute"},
	} {
		cfg.Dir = t.TempDir()
		_, err := New(cfg, io.Discard)
		assert.ErrorContains(t, err, "slogdebug: bad configuration: ", "%+v", cfg)
	}
	err := Config{QueueBytes: 10, MaxSessions: -3}.Validate()
	assert.ErrorContains(t, err, "QueueBytes 10: want 256 to 1073741824 bytes")
	assert.ErrorContains(t, err, "MaxSessions -3: want")
	err = Config{ProvisioningFailureRate: "0/1m"}.Validate()
	assert.ErrorContains(t, err, `ProvisioningFailureRate "0/1m": want a count of at least 1`)
}

// TestConfigFromEnvWithFlags: a program's command-line flags (the fork's
// -debugMode and -debugLogDir) override the variables, with the same checks
// and the same error messages.
func TestConfigFromEnvWithFlags(t *testing.T) {
	t.Setenv("DEBUG_MODE", "false")
	t.Setenv("DEBUG_LOG_DIR", t.TempDir())
	dir := t.TempDir()
	cfg, err := ConfigFromEnvWith(map[string]string{"DEBUG_MODE": "true", "DEBUG_LOG_DIR": dir})
	require.NoError(t, err)
	assert.True(t, cfg.Enabled, "the flag wins over the variable")
	assert.Equal(t, dir, cfg.Dir)

	cfg, err = ConfigFromEnvWith(map[string]string{"DEBUG_MODE": ""})
	require.NoError(t, err)
	assert.False(t, cfg.Enabled, "an empty override (a flag not given) leaves the variable's value")

	_, err = ConfigFromEnvWith(map[string]string{"DEBUG_MODE": "maybe", "DEBUG_STRICT": "true"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `DEBUG_MODE="maybe": want true/false`)
	_, err = ConfigFromEnvWith(map[string]string{"DEBUG_MODEE": "true", "DEBUG_STRICT": "true"})
	require.Error(t, err, "an override is checked like a variable")
	cfg, err = ConfigFromEnvWith(map[string]string{"DEBUG_MODE": "maybe"})
	require.NoError(t, err, "not strict: said by New")
	assert.False(t, cfg.Enabled)
	require.Len(t, cfg.env.problems, 1)
	assert.Equal(t, `DEBUG_MODE="maybe": want true/false (also 1/0, yes/no, on/off)`, cfg.env.problems[0].Error())
}

// TestREADMEListsTheVariables: README.md's table of variables, the
// reference, and the guide's list exactly the variables of envVars, in its
// order, with its defaults, which the variables accept.
func TestREADMEListsTheVariables(t *testing.T) {
	var want []string
	for _, v := range envVars {
		want = append(want, v.name+" "+v.def)
		if def, ok := strings.CutPrefix(v.def, "`"); ok { // a value: one the variable accepts
			_, err := configFromMap(map[string]string{v.name: strings.TrimSuffix(def, "`")})
			assert.NoError(t, err, "%s's default", v.name)
		}
	}
	for _, file := range []string{"../README.md", "../docs/DEBUG_MODE.md"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		_, table, ok := strings.Cut(string(b), "| variable | default | meaning |\n|---|---|---|\n")
		require.True(t, ok, "%s has no table of variables", file)
		table, _, _ = strings.Cut(table, "\n\n")
		var got []string
		for _, row := range strings.Split(table, "\n") {
			cells := strings.Split(row, " | ")
			require.GreaterOrEqual(t, len(cells), 3, "%s: %q", file, row)
			got = append(got, strings.Trim(cells[0], "| `")+" "+cells[1])
		}
		assert.Equal(t, want, got, file)
	}
}

// TestStallThreshold: DEBUG_STRESS_STALL sets the threshold CopyStream
// asks the Logger's handler for (0 off); it is 0 whenever stress detection
// is not running, and Validate bounds a Config's.
func TestStallThreshold(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "8s": 8 * time.Second, "0": -1, "100ms": 100 * time.Millisecond, "1h": time.Hour} {
		cfg, err := configFromMap(strict(map[string]string{"DEBUG_STRESS_STALL": v}))
		require.NoError(t, err, v)
		assert.Equal(t, want, cfg.StallThreshold, v)
	}
	err := Config{StallThreshold: time.Millisecond}.Validate()
	assert.ErrorContains(t, err, "StallThreshold 1ms: want 0 (the default, 5s), less than 0 (off) or 100ms to 1h0m0s")

	threshold := func(l *Logger) time.Duration {
		s, ok := l.With("k", "v").Handler().(stressevent.StallSource)
		require.True(t, ok, "a derived Logger's handler answers too")
		return s.StallThreshold()
	}
	for _, tc := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{Enabled: true}, 5 * time.Second},
		{Config{Enabled: true, StallThreshold: 8 * time.Second}, 8 * time.Second},
		{Config{Enabled: true, StallThreshold: -1}, 0},
		{Config{Enabled: true, DisableStress: true}, 0},
		{Config{}, 0},
		{Config{FlightRecorder: time.Minute}, 5 * time.Second},
	} {
		tc.cfg.Dir = t.TempDir()
		l, err := New(tc.cfg, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, tc.want, threshold(l), "%+v", tc.cfg)
		require.NoError(t, l.Close())
		assert.Zero(t, threshold(l), "closed")
	}
}
