// Package stressevent names what stress events are written with: the event
// types of package stress's rules, the keys of the cooldown's counts and the
// severity of a level. Package stress and the typed helper LogStressEvent
// write them; integration and the tests read them. The strings are those of
// the files: changing one breaks their readers.
package stressevent

import "log/slog"

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
	// StressSuppressed is the line Close writes: the counts per event type
	// that the cooldown held back and no later event reported.
	StressSuppressed = "stress_suppressed"
)

// The keys stress detection reads and writes besides the event's own.
const (
	// SummaryKey marks a record that sums up failures already logged one
	// by one (a retry loop's final provision_failed): with summary=true it
	// counts toward no window and fires no per-record event.
	SummaryKey = "summary"
	// SuppressedKey counts the events of a windowed type that the cooldown
	// kept from Files and the Console: they were not written at all.
	SuppressedKey = "suppressed"
	// ConsoleSuppressedKey counts the events of a per-record type that the
	// cooldown kept from the Console: each was written to Files.
	ConsoleSuppressedKey = "console_suppressed"
)

// Severity is the "severity" of an event logged at level: critical at
// Error and above, warning at Warn and above, info below.
func Severity(level slog.Level) string {
	switch {
	case level >= slog.LevelError:
		return "critical"
	case level >= slog.LevelWarn:
		return "warning"
	}
	return "info"
}
