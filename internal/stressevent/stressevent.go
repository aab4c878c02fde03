// Package stressevent names stress events' types, count keys and severities.
// The strings are those of the files: changing one breaks their readers.
package stressevent

import (
	"log/slog"
	"time"
)

// The event types of package stress's rules.
const (
	SlowRequest                 = "slow_request"
	SlowEngineSelection         = "slow_engine_selection"
	HighSlowRequestRate         = "high_slow_request_rate"
	HighProvisioningFailureRate = "high_provisioning_failure_rate"
	ProvisioningCircuitBreaker  = "provisioning_circuit_breaker"
	OrchestratorDegraded        = "orchestrator_degraded"
	OrchestratorRecovered       = "orchestrator_recovered"
	RecordsDropped              = "records_dropped"
	// StreamStalled is also the event_type of the streams line that fires
	// it: a stream with no bytes for longer than the stall threshold.
	StreamStalled = "stream_stalled"
	// StreamResumed is the streams line of a stalled stream whose bytes
	// flow again, with the whole stall; it fires no event.
	StreamResumed = "stream_resumed"
	// StressSuppressed is the line Close writes: what the cooldown held back.
	StressSuppressed = "stress_suppressed"
)

// The keys stress detection reads and writes besides the event's own.
const (
	// SummaryKey marks a record summing up failures already logged one by
	// one: it counts toward no window and fires no per-record event.
	SummaryKey = "summary"
	// SuppressedKey counts windowed events the cooldown kept from everywhere.
	SuppressedKey = "suppressed"
	// ConsoleSuppressedKey counts per-record events kept from the Console only.
	ConsoleSuppressedKey = "console_suppressed"
)

// StallSource is what a Logger's handler answers, for integration's
// CopyStream: the stall threshold of its set-up (0 when stress detection is
// off, or stalls are not watched).
type StallSource interface{ StallThreshold() time.Duration }

// GoroutinesKey names a stress line's goroutine snapshot,
// <session>_goroutines_001.txt.
const GoroutinesKey = "goroutines"

// GoroutineSnapshots is what a Logger's handler answers, for integration's
// Middleware and CopyStream, while goroutine snapshots are on
// (DEBUG_GOROUTINES).
type GoroutineSnapshots interface {
	// SlowStartWatch is the requests' slow threshold when snapshots are
	// on, 0 when off: a request still without its first byte then is
	// caught in a snapshot while it waits.
	SlowStartWatch() time.Duration
	// GoroutineSnapshot writes a snapshot for event, off the caller's
	// goroutine, unless one was written within the cooldown; it returns
	// the file's name, or "".
	GoroutineSnapshot(event string) string
}

// Severity is the "severity" of an event logged at level.
func Severity(level slog.Level) string {
	switch {
	case level >= slog.LevelError:
		return "critical"
	case level >= slog.LevelWarn:
		return "warning"
	}
	return "info"
}
