package slogdebug

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// restoreDefaults puts slog's and this package's defaults back after a test.
func restoreDefaults(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() {
		slog.SetDefault(old)
		if l := defaultLogger.Swap(nil); l != nil {
			l.Close()
		}
	})
}

func TestInitMakesSlogsDefaultWriteTheFiles(t *testing.T) {
	restoreDefaults(t)
	l, err := Init(Config{Enabled: true, Dir: t.TempDir()})
	require.NoError(t, err)
	assert.Same(t, l, Default())

	// The proxy's existing package-level slog calls.
	slog.With("category", "provisioning").Debug("provision", "operation", "provision_success")
	slog.Debug("no category: console only, and below its level")
	Default().LogRequest(context.Background(), "GET", "/ace/getstream", time.Second, 200, "abc")
	require.NoError(t, Flush())

	assert.Len(t, readFile(t, l, "provisioning"), 1)
	assert.Len(t, readFile(t, l, "requests"), 1)
	require.NoError(t, Close())
	lines := readFile(t, l, "session")
	assert.Equal(t, "session_end", lines[len(lines)-1]["event"])
}

func TestInitClosesThePreviousDefault(t *testing.T) {
	restoreDefaults(t)
	first, err := Init(Config{Enabled: true, Dir: t.TempDir()})
	require.NoError(t, err)
	second, err := Init(Config{Enabled: true, Dir: t.TempDir()})
	require.NoError(t, err)
	assert.Same(t, second, Default())
	lines := readFile(t, first, "session")
	assert.Equal(t, "session_end", lines[len(lines)-1]["event"], "the first session was ended")
}

func TestDefaultBeforeInitIsSafe(t *testing.T) {
	restoreDefaults(t)
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	l := Default()
	assert.False(t, l.DebugMode())
	l.LogRequest(context.Background(), "GET", "/x", 0, 200, "")
	l.LogStressEvent(context.Background(), "slow_request", SeverityWarning, "shown on slog's default console")
	assert.NoError(t, Flush())
	assert.NoError(t, Close())
}
