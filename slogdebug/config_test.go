package slogdebug

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestConfigFromEnvDefaults(t *testing.T) {
	cfg, err := configFromLookup(lookupFrom(nil))
	require.NoError(t, err)
	assert.Equal(t, Config{Dir: "./debug_logs"}, cfg)
}

func TestConfigFromEnvValues(t *testing.T) {
	cfg, err := configFromLookup(lookupFrom(map[string]string{
		"DEBUG_MODE":                  " yes ",
		"DEBUG_LOG_DIR":               "/app/debug_logs",
		"DEBUG_SESSION_ID":            "incident-7",
		"DEBUG_QUEUE_BYTES":           "16MiB",
		"DEBUG_FLUSH_INTERVAL":        "50ms",
		"DEBUG_MAX_LINE_BYTES":        "4096",
		"DEBUG_BLOCK_WHEN_FULL":       "on",
		"DEBUG_MAX_CATEGORIES":        "20",
		"DEBUG_DEFAULT_CATEGORY":      "general",
		"DEBUG_CONSOLE_LEVEL":         "warn",
		"NO_COLOR":                    "1",
		"DEBUG_MAX_FILE_BYTES":        "32MiB",
		"DEBUG_MAX_TOTAL_BYTES":       "unlimited",
		"DEBUG_MAX_SESSIONS":          "5",
		"DEBUG_SYNC":                  "true",
		"DEBUG_FILE_MODE":             "0600",
		"DEBUG_DIR_MODE":              "700",
		"DEBUG_REDACT_KEYS":           "x-session, pin",
		"DEBUG_FLIGHT_RECORDER":       "2m",
		"DEBUG_FLIGHT_RECORDER_BYTES": "4MiB",
	}))
	require.NoError(t, err)
	assert.Equal(t, Config{
		Enabled:             true,
		Dir:                 "/app/debug_logs",
		SessionID:           "incident-7",
		QueueBytes:          16 << 20,
		FlushInterval:       50 * time.Millisecond,
		MaxLineBytes:        4096,
		BlockWhenFull:       true,
		MaxCategories:       20,
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
	}, cfg)
}

func TestConfigFromEnvBooleans(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "ON": true, "Yes": true, "false": false, "0": false, "off": false, "no": false, "": false} {
		cfg, err := configFromLookup(lookupFrom(map[string]string{"DEBUG_MODE": v}))
		require.NoError(t, err, v)
		assert.Equal(t, want, cfg.Enabled, v)
	}
}

func TestConfigFromEnvRejectsBadValues(t *testing.T) {
	_, err := configFromLookup(lookupFrom(map[string]string{
		"DEBUG_MODE":            "maybe",
		"DEBUG_QUEUE_BYTES":     "lots",
		"DEBUG_FLUSH_INTERVAL":  "-1s",
		"DEBUG_MAX_CATEGORIES":  "0",
		"DEBUG_CONSOLE_LEVEL":   "loud",
		"DEBUG_MAX_LINE_BYTES":  "12XB",
		"DEBUG_FILE_MODE":       "rw-r-----",
		"DEBUG_MAX_SESSIONS":    "0",
		"DEBUG_FLIGHT_RECORDER": "forever",
	}))
	require.Error(t, err)
	for _, want := range []string{
		`DEBUG_MODE="maybe": want true/false`,
		`DEBUG_QUEUE_BYTES="lots": want a positive size in bytes`,
		`DEBUG_FLUSH_INTERVAL="-1s": want a positive duration`,
		`DEBUG_MAX_CATEGORIES="0": want a whole number`,
		`DEBUG_CONSOLE_LEVEL="loud": want debug, info, warn or error`,
		`DEBUG_MAX_LINE_BYTES="12XB"`,
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
