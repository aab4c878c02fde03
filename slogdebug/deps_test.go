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
// reads OTel spans imports slogdebug/otelspan, which does.
func TestNoOpenTelemetryUnlessAsked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	deps := func(pkg string) []string {
		out, err := exec.Command(goCmd, "list", "-deps", "-test=false", pkg).Output()
		require.NoError(t, err, "go list -deps %s", pkg)
		return strings.Fields(string(out))
	}
	quickstart := deps("../examples/quickstart")
	require.Contains(t, quickstart, "github.com/proxydebug/debugmode/slogdebug")
	require.Contains(t, quickstart, "github.com/proxydebug/debugmode/integration")
	for _, p := range quickstart {
		assert.False(t, strings.HasPrefix(p, "go.opentelemetry.io/"), "the quickstart links %s", p)
	}
	assert.Contains(t, deps("./otelspan"), "go.opentelemetry.io/otel/trace", "the opt-in package does")
}
