package handler

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEndAttrsAreAddedToTheLastLine: Options.EndAttrs adds its attributes
// to session_end and to the event of CloseWith, after the handler's counts.
func TestEndAttrsAreAddedToTheLastLine(t *testing.T) {
	for _, event := range []string{"session_end", "debug_disabled"} {
		t.Run(event, func(t *testing.T) {
			calls := 0
			h, err := New(Options{Dir: t.TempDir(), EndAttrs: func() []slog.Attr {
				calls++
				return []slog.Attr{slog.Group("stress_events", slog.Group("slow_request", slog.Int("events", 8)))}
			}})
			require.NoError(t, err)
			slog.New(h).Debug("a", "category", "requests")
			require.NoError(t, h.CloseWith(event))
			assert.Equal(t, 1, calls)

			lines := rawLines(t, h.Path("session"))
			require.Len(t, lines, 2)
			k := keys(t, lines[1])
			assert.Equal(t, "categories", k[len(k)-2])
			assert.Equal(t, "stress_events", k[len(k)-1], "after the handler's counts")
			end := readLines(t, h.Path("session"))[1]
			assert.Equal(t, event, end["msg"])
			assert.Equal(t, map[string]any{"slow_request": map[string]any{"events": json.Number("8")}}, end["stress_events"])
		})
	}
}

// TestEndAttrsPanicIsRecovered: a panicking EndAttrs cannot take the
// writer goroutine, and the process, down; the line is written without it.
func TestEndAttrsPanicIsRecovered(t *testing.T) {
	h, err := New(Options{Dir: t.TempDir(), EndAttrs: func() []slog.Attr { panic("broken hook") }})
	require.NoError(t, err)
	require.NoError(t, h.Close())
	lines := readLines(t, h.Path("session"))
	require.Len(t, lines, 2)
	assert.Equal(t, "session_end", lines[1]["msg"])
	assert.NotContains(t, lines[1], "stress_events")
	assert.Equal(t, uint64(1), h.Stats().Panics, "counted like any panic the writer recovers")
}
