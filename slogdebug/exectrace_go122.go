//go:build !go1.25

package slogdebug

import (
	"errors"
	"time"
)

// executionTraceSupported reports whether this build has
// runtime/trace.FlightRecorder (Go 1.25 and newer): not this one.
const executionTraceSupported = false

// startTraceRecorder fails: runtime/trace.FlightRecorder needs Go 1.25
// (Validate refuses Config.ExecutionTrace before this is reached).
func startTraceRecorder(time.Duration, int) (traceRecorder, error) {
	return nil, errors.New(executionTraceNeedsGo125())
}
