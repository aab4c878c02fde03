package slogdebug

import (
	"strings"
	"testing"
)

// FuzzConfigFromEnv feeds one value to every variable: whatever it is, the
// result is a config or an error that names a variable, never a panic.
func FuzzConfigFromEnv(f *testing.F) {
	for _, s := range []string{"true", "maybe", "8MiB", "-1", "200ms", "requests=5s,engine_selection=2s", "10/1m", "", "=", "a=,", "1GiB", "99999999999G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cfg, err := configFromLookup(func(string) (string, bool) { return v, true })
		if err != nil {
			if !strings.Contains(err.Error(), "DEBUG_") {
				t.Fatalf("error names no variable: %v", err)
			}
			return
		}
		if cfg.QueueBytes < 0 || cfg.MaxLineBytes < 0 || cfg.FlushInterval < 0 || cfg.MaxCategories < 0 {
			t.Fatalf("negative setting accepted from %q: %+v", v, cfg)
		}
		for cat, d := range cfg.SlowThresholds {
			if cat == "" || d < 0 {
				t.Fatalf("bad threshold accepted from %q: %q=%v", v, cat, d)
			}
		}
	})
}
