//go:build unix

package handler

import (
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFIFOAtALogPathIsRefused plants a FIFO at a log file's path: the
// writer neither blocks on it nor writes into it, and says why.
func TestFIFOAtALogPathIsRefused(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c", FlushInterval: time.Hour})
	require.NoError(t, syscall.Mkfifo(h.Path("c"), 0o640))
	slog.New(h).Info("m")
	err := h.Flush()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a regular file")
	assert.Equal(t, uint64(1), h.Stats().Categories["c"].Failed)
}
