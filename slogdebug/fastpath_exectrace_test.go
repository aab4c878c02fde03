//go:build go1.25

package slogdebug

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestExecutionTraceTakesTheHelpersRecords: with the execution
// trace's mirror in the fan-out, no helper skips it.
func TestExecutionTraceTakesTheHelpersRecords(t *testing.T) {
	l, _ := newDebugLogger(t, Config{ExecutionTrace: time.Second})
	for _, i := range []categoryIndex{idxRequests, idxEngineSelection, idxProvisioning, idxStreams, idxDisconnects} {
		assert.Nil(t, l.fast(i), categoryNames[i])
		assert.Nil(t, l.With("k", 1).fast(i), categoryNames[i])
	}
}
