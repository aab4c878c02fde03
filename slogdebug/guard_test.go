package slogdebug

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicking is a console that panics on every record.
type panicking struct{ slog.Handler }

func (panicking) Handle(context.Context, slog.Record) error { panic("broken console") }

// TestAPanickingConsoleIsCountedOnce: a console that panics takes neither
// the host down nor the record from the files; each panic is counted once,
// in Stats and in session_end.
func TestAPanickingConsoleIsCountedOnce(t *testing.T) {
	console := panicking{slog.NewTextHandler(&bytes.Buffer{}, nil)}
	l, err := New(Config{Enabled: true, Dir: t.TempDir(), Console: console, DisableStress: true}, nil)
	require.NoError(t, err)
	l.With("category", "provisioning").Info("blocked", "reason", "vpn")
	require.NoError(t, l.Flush())
	lines := readFile(t, l, "provisioning")
	require.Len(t, lines, 1, "the files have the record the console panicked on")
	assert.Equal(t, "blocked", lines[0]["msg"])
	assert.Equal(t, uint64(1), l.Stats().Panics)

	require.NoError(t, l.Close())
	session := readFile(t, l, "session")
	end := session[len(session)-1]
	require.Equal(t, "session_end", end["event"])
	assert.Equal(t, 1.0, end["panics"])
}

// panickyValue's MarshalJSON panics.
type panickyValue struct{}

func (panickyValue) MarshalJSON() ([]byte, error) { panic("MarshalJSON panics") }

// TestAPanickingValueIsCountedOnce: a value whose MarshalJSON panics is
// recovered as the files encode it, counted once, and the line has the
// failure in its place (slog's own JSON handler, the console here,
// recovers it by itself and writes !PANIC).
func TestAPanickingValueIsCountedOnce(t *testing.T) {
	console := slog.NewJSONHandler(&bytes.Buffer{}, nil)
	l, err := New(Config{Enabled: true, Dir: t.TempDir(), Console: console, DisableStress: true}, nil)
	require.NoError(t, err)
	l.With("category", "errors").Error("odd value", "v", panickyValue{})
	require.NoError(t, l.Flush())
	lines := readFile(t, l, "errors")
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0]["v"], "MarshalJSON panics")
	assert.Equal(t, uint64(1), l.Stats().Panics)
	require.NoError(t, l.Close())
	session := readFile(t, l, "session")
	assert.Equal(t, 1.0, session[len(session)-1]["panics"])
}
