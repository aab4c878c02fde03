package slogdebug

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonConsoleLines decodes the lines of a JSON console.
func jsonConsoleLines(t *testing.T, console *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(console.Bytes()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	return out
}

// errorLines are the console's lines at Error.
func errorLines(t *testing.T, console *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range jsonConsoleLines(t, console) {
		if m["level"] == "ERROR" {
			out = append(out, m)
		}
	}
	return out
}

// uncreatable is a directory no process can create, root included: its
// parent is a regular file.
func uncreatable(t *testing.T) (dir, file string) {
	file = filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	return filepath.Join(file, "sub"), file
}

// startUp is the README's start-up with env as the environment: ConfigFromEnv,
// then New on a JSON console.
func startUp(t *testing.T, env map[string]string) (*Logger, *bytes.Buffer, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, nil, err
	}
	var console bytes.Buffer
	cfg.Console = slog.NewJSONHandler(&console, nil)
	l, err := New(cfg, nil)
	require.NoError(t, err, "New takes what ConfigFromEnv gives")
	t.Cleanup(func() { l.Close() })
	return l, &console, nil
}

// adminSwitchOn asks l's admin handler to turn debug mode on.
func adminSwitchOn(l *Logger) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPut, "/debug", strings.NewReader(`{"debug_mode": true}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	l.AdminHandler().ServeHTTP(rec, req)
	return rec
}

// TestBadSettingsDoNotStopTheProgram: a bad value, a misspelt variable and a
// directory that cannot be created, with debug mode on, each leave the
// program running with debug mode off and say so in one Error line naming
// the variable; SetDebug(true) and the admin endpoint answer the same
// error. DEBUG_STRICT=true makes each a start-up error naming the variable.
func TestBadSettingsDoNotStopTheProgram(t *testing.T) {
	dir, file := uncreatable(t)
	for _, tc := range []struct {
		name     string
		env      map[string]string
		variable string
		want     string // in the console line and SetDebug's error
		retries  bool   // SetDebug(true) looks again, rather than refuse
	}{
		{"bad value", map[string]string{"DEBUG_MODE": "enabled"}, "DEBUG_MODE",
			`DEBUG_MODE="enabled": want true/false (also 1/0, yes/no, on/off)`, false},
		{"misspelt variable", map[string]string{"DEBUG_MODEE": "true"}, "DEBUG_MODEE",
			"DEBUG_MODEE: not a debug mode variable; did you mean DEBUG_MODE? (a variable of your program's own: list it in DEBUG_IGNORE_VARS)", false},
		{"uncreatable directory, debug mode on", map[string]string{"DEBUG_MODE": "true", "DEBUG_LOG_DIR": dir}, "DEBUG_LOG_DIR",
			`DEBUG_LOG_DIR="` + dir + `": log directory "` + dir + `": ` + file + ` is not a directory: want a directory this process can create files in`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, console, err := startUp(t, tc.env)
			require.NoError(t, err, "the program starts")
			assert.False(t, l.DebugMode())
			lines := errorLines(t, console)
			require.Len(t, lines, 1, console.String())
			assert.Equal(t, tc.variable, lines[0]["variable"])
			msg, _ := lines[0]["msg"].(string)
			assert.True(t, strings.HasPrefix(msg, "debug mode: "+tc.want+"; debug mode stays off"), msg)
			l.Info("the program logs on")
			assert.Contains(t, console.String(), "the program logs on")

			err = l.SetDebug(true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.False(t, l.DebugMode())
			rec := adminSwitchOn(l)
			if tc.retries {
				assert.Equal(t, http.StatusInternalServerError, rec.Code)
			} else {
				assert.Equal(t, http.StatusConflict, rec.Code)
			}
			assert.Contains(t, rec.Body.String(), tc.want)
			assert.NoFileExists(t, dir)
			assert.Len(t, errorLines(t, console), 1, "said once")

			t.Setenv("DEBUG_STRICT", "true")
			_, err = ConfigFromEnv()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestDebugModeOffLeavesTheDirectoryAlone: with debug mode off nothing looks
// at the directory, so nothing is said; turning debug mode on does, and
// answers its error. DEBUG_STRICT=true looks at it at start-up.
func TestDebugModeOffLeavesTheDirectoryAlone(t *testing.T) {
	dir, file := uncreatable(t)
	want := `DEBUG_LOG_DIR="` + dir + `": log directory "` + dir + `": ` + file + ` is not a directory: want a directory this process can create files in`
	l, console, err := startUp(t, map[string]string{"DEBUG_LOG_DIR": dir})
	require.NoError(t, err, "the program starts")
	assert.False(t, l.DebugMode())
	assert.Empty(t, errorLines(t, console), "the directory is not looked at")

	err = l.SetDebug(true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), want)
	rec := adminSwitchOn(l)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Contains(t, rec.Body.String(), want)
	assert.False(t, l.DebugMode())

	t.Setenv("DEBUG_STRICT", "true")
	_, err = ConfigFromEnv()
	require.Error(t, err)
	assert.Contains(t, err.Error(), want)
}

// TestDirectoryFixedAtRunTime: debug mode that could not start at start-up
// starts once the directory can be made, without a restart.
func TestDirectoryFixedAtRunTime(t *testing.T) {
	dir, file := uncreatable(t)
	l, console, err := startUp(t, map[string]string{"DEBUG_MODE": "true", "DEBUG_LOG_DIR": dir})
	require.NoError(t, err)
	require.False(t, l.DebugMode())
	require.Len(t, errorLines(t, console), 1)
	require.NoError(t, os.Remove(file))
	require.NoError(t, l.SetDebug(true))
	assert.True(t, l.DebugMode())
	assert.DirExists(t, dir)
}

// TestABadSecondarySetting: with debug mode on, a bad tuning setting takes
// its default and debug mode starts; a bad bound (disk, memory,
// permissions, secrets, categories) keeps debug mode off, since its default
// could take or show more than was asked.
func TestABadSecondarySetting(t *testing.T) {
	t.Run("tuning: its default", func(t *testing.T) {
		l, console, err := startUp(t, map[string]string{"DEBUG_MODE": "true", "DEBUG_LOG_DIR": t.TempDir(), "DEBUG_FLUSH_INTERVAL": "fast"})
		require.NoError(t, err)
		assert.True(t, l.DebugMode())
		assert.Equal(t, time.Duration(0), l.cfg.FlushInterval, "the default")
		lines := errorLines(t, console)
		require.Len(t, lines, 1)
		assert.Equal(t, "DEBUG_FLUSH_INTERVAL", lines[0]["variable"])
		assert.Equal(t, `debug mode: DEBUG_FLUSH_INTERVAL="fast": want a duration from 1ms to 1h0m0s, such as 200ms or 1s; it takes its default, 200ms`, lines[0]["msg"])
		require.NoError(t, l.SetDebug(false))
		require.NoError(t, l.SetDebug(true), "nothing bad left")
	})
	t.Run("bound: debug mode off", func(t *testing.T) {
		dir := t.TempDir()
		l, console, err := startUp(t, map[string]string{"DEBUG_MODE": "true", "DEBUG_LOG_DIR": dir, "DEBUG_MAX_TOTAL_BYTES": "lots",
			"DEBUG_FLIGHT_RECORDER": "1m"})
		require.NoError(t, err)
		assert.False(t, l.DebugMode())
		assert.Zero(t, l.cfg.FlightRecorder, "nothing writes into the directory")
		lines := errorLines(t, console)
		require.Len(t, lines, 1)
		assert.Equal(t, "DEBUG_MAX_TOTAL_BYTES", lines[0]["variable"])
		assert.Equal(t, `debug mode: DEBUG_MAX_TOTAL_BYTES="lots": want a size such as 64MiB, or unlimited; debug mode stays off until it is fixed`, lines[0]["msg"])
		assert.ErrorContains(t, l.SetDebug(true), `DEBUG_MAX_TOTAL_BYTES="lots": want a size such as 64MiB, or unlimited`)

		// A program that turns debug mode on in code after ConfigFromEnv (the demo does) gets it off too.
		cfg, err := ConfigFromEnv()
		require.NoError(t, err)
		cfg.Enabled, cfg.FlightRecorder = true, time.Minute
		l2, err := New(cfg, io.Discard)
		require.NoError(t, err)
		assert.False(t, l2.DebugMode())
		l2.LogRequest(context.Background(), "GET", "/slow", 10*time.Second, 200, "")
		require.NoError(t, l2.Close())
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, ents, "nothing written: no files, no flight recorder dump")
	})
	t.Run("a flight recorder's bound: that recorder off", func(t *testing.T) {
		l, console, err := startUp(t, map[string]string{"DEBUG_FLIGHT_RECORDER": "1m", "DEBUG_FLIGHT_RECORDER_BYTES": "1KiB"})
		require.NoError(t, err)
		assert.Zero(t, l.cfg.FlightRecorder)
		lines := errorLines(t, console)
		require.Len(t, lines, 1)
		assert.Equal(t, "DEBUG_FLIGHT_RECORDER_BYTES", lines[0]["variable"])
		assert.True(t, strings.HasSuffix(lines[0]["msg"].(string), "; the flight recorder stays off"), lines[0]["msg"])
	})
	t.Run("every problem, one line each", func(t *testing.T) {
		l, console, err := startUp(t, map[string]string{"DEBUG_MODE": "true", "DEBUG_LOG_DIR": t.TempDir(),
			"DEBUG_CONSOLE_LEVEL": "loud", "DEBUG_STRESS_SLOW": "request=1s", "DEBUG_MAX_LINE_BYTES": "4096", "DEBUG_PPROF": "1"})
		require.NoError(t, err)
		assert.True(t, l.DebugMode())
		var vars []any
		for _, m := range errorLines(t, console) {
			vars = append(vars, m["variable"])
		}
		assert.Equal(t, []any{"DEBUG_CONSOLE_LEVEL", "DEBUG_STRESS_SLOW", "DEBUG_MAX_LINE_BYTES"}, vars)
		assert.Contains(t, console.String(), "DEBUG_PPROF: not a debug mode variable, left alone", "another program's: a warning")
	})
}

// TestConsoleLevelWithTheProgramsConsoleIsSaid: DEBUG_CONSOLE_LEVEL sets
// tint's level; a Console of the program's own keeps its own, and the
// start-up says so once instead of ignoring the variable silently (found
// rewiring the acexy fork, whose console printed every Info line at
// DEBUG_CONSOLE_LEVEL=error).
func TestConsoleLevelWithTheProgramsConsoleIsSaid(t *testing.T) {
	t.Run("set", func(t *testing.T) {
		_, console, err := startUp(t, map[string]string{"DEBUG_CONSOLE_LEVEL": "error"})
		require.NoError(t, err)
		var warned []any
		for _, m := range jsonConsoleLines(t, console) {
			if m["level"] == "WARN" {
				warned = append(warned, m["msg"])
			}
		}
		assert.Equal(t, []any{"debug mode: DEBUG_CONSOLE_LEVEL is left alone: it sets tint's level, and Config.Console, the program's own console, keeps its own"}, warned)
	})
	t.Run("unset", func(t *testing.T) {
		_, console, err := startUp(t, map[string]string{})
		require.NoError(t, err)
		assert.Empty(t, jsonConsoleLines(t, console), "nothing to say")
	})
}
