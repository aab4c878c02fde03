package handler

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type frozenPoint struct{ X, Y int }

// TestFrozenRecordIsWrittenAsAtTheCall writes a record and its frozen copy
// (made at the call, handed over after its values changed): the same line.
func TestFrozenRecordIsWrittenAsAtTheCall(t *testing.T) {
	h := newTestHandler(t, Options{})
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	p := &frozenPoint{X: 1}
	m := map[string]int{"n": 1}
	attrs := []slog.Attr{
		slog.String("category", "c"),
		slog.Any("p", p), slog.Any("m", m), slog.Any("err", errors.New("boom")),
		slog.Any("raw", []byte{0xff, 0x00}), slog.Group("g", slog.Any("inner", frozenPoint{Y: 2})),
	}
	frozen := Freeze(attrs)
	r := slog.NewRecord(at, slog.LevelInfo, "m", 0)
	r.AddAttrs(attrs...)
	require.NoError(t, h.Handle(context.Background(), r))
	p.X, m["n"] = 2, 2
	r = slog.NewRecord(at, slog.LevelInfo, "m", 0)
	r.AddAttrs(frozen...)
	require.NoError(t, h.Handle(context.Background(), r))
	require.NoError(t, h.Flush())

	data, err := os.ReadFile(h.Path("c"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, lines[0], lines[1])
	assert.Contains(t, lines[0], `"p":{"X":1,"Y":0},"m":{"n":1}`)
}
