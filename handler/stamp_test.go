package handler

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/config"
)

// TestSpanIDsKeepTheLineLimit: the trace and span IDs of a stamp count against Options.MaxLineBytes like any attribute (found by
// FuzzStableMatchesImmediate: a message that nearly filled the line got
// them appended past the limit).
func TestSpanIDsKeepTheLineLimit(t *testing.T) {
	const limit = config.MinLineBytes
	h := newTestHandler(t, Options{DefaultCategory: "c", MaxLineBytes: limit})
	ctx := withStamp(context.Background(), stamp{TraceID: [16]byte{1}, SpanID: [8]byte{1}})
	for n := 0; n < limit; n += 7 {
		require.NoError(t, h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, strings.Repeat("m", n), 0)))
	}
	require.NoError(t, h.Flush())
	for i, line := range rawLines(t, h.Path("c")) {
		assert.LessOrEqual(t, len(line)+1, limit, "line %d: %s", i, line)
		m := decodeLine(t, line, h.Path("c"), i+1)
		if _, ok := m["span_id"]; !ok {
			assert.Equal(t, true, m["truncated"], "line %d lost its span without a mark: %s", i, line)
		}
	}
}
