package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cyclicChildEnv selects the console of TestCyclicValueChild: "json" or "tint".
const cyclicChildEnv = "SLOGDEBUG_CYCLIC_CHILD_CONSOLE"

// TestCyclicValueChild is the program TestACyclicValueOnTheConsoleKillsNothing
// runs in a subprocess: a cyclic map and slice logged through the console.
func TestCyclicValueChild(t *testing.T) {
	console := os.Getenv(cyclicChildEnv)
	if console == "" {
		t.Skip("run by TestACyclicValueOnTheConsoleKillsNothing")
	}
	cfg := Config{Dir: t.TempDir()}
	if console == "json" {
		cfg.Console = slog.NewJSONHandler(os.Stderr, nil)
	}
	l, err := New(cfg, os.Stderr)
	if err != nil {
		panic(err)
	}
	m := map[string]any{"password": "SECRET"}
	m["self"] = m
	s := []any{"password=SECRET", nil}
	s[1] = s
	l.Info("cyclic", "map", m, "slice", s)
	l.LogRequest(context.Background(), "GET", "/x", 1, 200, "id", slog.Any("map", m))
	if err := l.Close(); err != nil {
		panic(err)
	}
	fmt.Println("survived")
}

// TestACyclicValueOnTheConsoleKillsNothing is break 2 of the second trust
// round: a cyclic map or slice logged with a JSON console killed the
// process (fatal error: stack overflow, which no recover catches): the
// console's redaction rendered values with fmt's %+v.
func TestACyclicValueOnTheConsoleKillsNothing(t *testing.T) {
	for _, console := range []string{"json", "tint"} {
		t.Run("console="+console, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCyclicValueChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), cyclicChildEnv+"="+console)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			require.NoError(t, err, "the child died: %s", tail(stderr.String()))
			assert.Contains(t, string(out), "survived")
			assert.NotContains(t, stderr.String(), "SECRET")
			assert.Contains(t, stderr.String(), "encountered a cycle", "the files' !ERROR text")
		})
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}
