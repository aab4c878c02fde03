//go:build !go1.25

package slogdebug

import (
	"errors"
	"time"
)

const executionTraceSupported = false

// startTraceRecorder fails (Validate refuses Config.ExecutionTrace first).
func startTraceRecorder(time.Duration, int) (traceRecorder, error) {
	return nil, errors.New(executionTraceNeedsGo125())
}
