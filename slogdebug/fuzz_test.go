package slogdebug

import (
	"strings"
	"testing"
)

// FuzzConfigFromEnv feeds one value to every variable, and to one more
// variable named by the fuzzer: whatever they are, ConfigFromEnv gives a
// config that debug mode accepts whole (Validate), each problem set aside
// and named; with DEBUG_STRICT=true, that or an error that names a
// variable; never a panic.
func FuzzConfigFromEnv(f *testing.F) {
	for _, seed := range []struct{ name, value string }{
		{"DEBUG_MODE", "true"}, {"DEBUG_MODE", "maybe"}, {"DEBUG_QUEUE_BYTES", "8MiB"}, {"DEBUG_MAX_SESSIONS", "-1"},
		{"DEBUG_FLUSH_INTERVAL", "200ms"}, {"DEBUG_STRESS_SLOW", "requests=5s,engine_selection=2s"},
		{"DEBUG_STRESS_SLOW_REQUEST_RATE", "10/1m"}, {"", ""}, {"DEBUG_STRESS_SLOW", "="}, {"DEBUG_STRESS_SLOW", "a=,"},
		{"DEBUG_MAX_TOTAL_BYTES", "1GiB"}, {"DEBUG_QUEUE_BYTES", "99999999999G"},
		// Values that parse but are out of range.
		{"DEBUG_FLUSH_INTERVAL", "1ns"}, {"DEBUG_QUEUE_BYTES", "1"}, {"DEBUG_SESSION_ID", "a b"},
		{"DEBUG_SESSION_ID", "incident-7"}, {"DEBUG_MAX_TOTAL_BYTES", "100MiB"}, {"DEBUG_FILE_MODE", "0200"},
		{"DEBUG_FLIGHT_RECORDER", "1ms"}, {"DEBUG_STRESS_SLOW_REQUEST_RATE", "100000/1m"}, {"DEBUG_STRESS_SLOW", "request=1s"},
		{"DEBUG_STRESS_SLOW", "Requests=1s"}, {"DEBUG_STRESS_COOLDOWN", "1000h"}, {"DEBUG_LOG_DIR", "/dev/null/x"},
		{"DEBUG_EXECUTION_TRACE", "10s"}, {"DEBUG_EXECUTION_TRACE", "10ms"}, {"DEBUG_EXECUTION_TRACE_BYTES", "1KiB"},
		{"DEBUG_EXECUTION_TRACE_COOLDOWN", "1ms"}, {"DEBUG_STRESS", "false"}, {"DEBUG_MAX_FILE_BYTES", "1GiB"},
		{"DEBUG_CATEGORIES", "-orchestrator_calls"}, {"DEBUG_ORCHESTRATOR_CALLS", "1"},
		// Unknown variables, and the opt-out.
		{"DEBUG_MODEE", "true"}, {"DEBUG_PPROF", "1"}, {"DEBUG_IGNORE_VARS", "DEBUG_PPROF,DEBUG_SQL_*"},
		{"DEBUG_IGNORE_VARS", "*"}, {"DEBUG_", "x"}, {"DEBUG_\x00", "\xff"},
	} {
		f.Add(seed.name, seed.value)
	}
	f.Fuzz(func(t *testing.T, name, v string) {
		env := map[string]string{}
		for _, known := range envVars {
			if known.name != envLogDir && known.name != envIgnoreVars && known.name != envStrict {
				env[known.name] = v
			}
		}
		if name != "" && name != envStrict {
			env[name] = v
		}
		cfg, err := configFromMap(env)
		if err != nil {
			t.Fatalf("not strict, yet an error: %v", err)
		}
		check(t, cfg, name, v)
		off := false
		for _, p := range cfg.env.problems {
			if p.msg == "" || p.effect == "" {
				t.Fatalf("a problem unsaid: %+v", p)
			}
			off = off || p.off
		}
		if off && (cfg.Enabled || cfg.FlightRecorder != 0 || cfg.ExecutionTrace != 0) {
			t.Fatalf("a bad bound, yet something writes: %+v", cfg)
		}

		env[envStrict] = "true"
		cfg, err = configFromMap(env)
		if err != nil {
			if !strings.Contains(err.Error(), "DEBUG_") {
				t.Fatalf("error names no variable: %v", err)
			}
			return
		}
		check(t, cfg, name, v)
	})
}

func check(t *testing.T, cfg Config, name, v string) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("ConfigFromEnv gave what New refuses (%s=%q, all=%q): %v", name, v, v, err)
	}
	if cfg.QueueBytes < 0 || cfg.FlushInterval < 0 || cfg.MaxSessions < -1 {
		t.Fatalf("negative setting accepted from %q: %+v", v, cfg)
	}
	for cat, d := range cfg.SlowThresholds {
		if cat == "" || d < 0 {
			t.Fatalf("bad threshold accepted from %q: %q=%v", v, cat, d)
		}
	}
}
