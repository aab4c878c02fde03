//go:build go1.25

package slogdebug

import (
	"fmt"
	"runtime/trace"
	"time"
)

const executionTraceSupported = true

// startTraceRecorder starts runtime/trace.FlightRecorder; a process runs one.
func startTraceRecorder(window time.Duration, maxBytes int) (traceRecorder, error) {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: window, MaxBytes: uint64(maxBytes)})
	if err := fr.Start(); err != nil {
		return nil, fmt.Errorf("start runtime/trace.FlightRecorder: %w (a process runs one at a time: is another Logger with ExecutionTrace still open?)", err)
	}
	return fr, nil
}
