package slogdebug

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoOpenTelemetryUnlessAsked: a program using slogdebug and integration
// (the README's quickstart) links no OpenTelemetry package; the program that
// reads OTel spans imports slogdebug/otelspan, which does. Built with
// -tags debugmode_notint, it links no tint either.
func TestNoOpenTelemetryUnlessAsked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	deps := func(pkg string, flags ...string) []string {
		out, err := exec.Command(goCmd, append(append([]string{"list", "-deps", "-test=false"}, flags...), pkg)...).Output()
		require.NoError(t, err, "go list -deps %s %s", flags, pkg)
		return strings.Fields(string(out))
	}
	quickstart := deps("../examples/quickstart")
	require.Contains(t, quickstart, "github.com/proxydebug/debugmode/slogdebug")
	require.Contains(t, quickstart, "github.com/proxydebug/debugmode/integration")
	for _, p := range quickstart {
		assert.False(t, strings.HasPrefix(p, "go.opentelemetry.io/"), "the quickstart links %s", p)
	}
	assert.Contains(t, deps("./otelspan"), "go.opentelemetry.io/otel/trace", "the opt-in package does")

	// tint is linked by default, the console of a program that brings none;
	// a program with a console of its own builds with -tags debugmode_notint
	// and links none of tint and what tint brings.
	assert.Contains(t, quickstart, "github.com/lmittmann/tint")
	for _, p := range deps("../examples/quickstart", "-tags", "debugmode_notint") {
		assert.False(t, strings.HasPrefix(p, "github.com/lmittmann/") || strings.HasPrefix(p, "github.com/mattn/"),
			"built with debugmode_notint, the quickstart links %s", p)
	}
}
