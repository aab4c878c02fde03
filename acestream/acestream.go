// Package acestream holds the AceStream proxy's events as structs (no two
// fields can be swapped unnoticed) for slogdebug.Logger's typed helpers.
package acestream

import "time"

// EngineSelection is one engine selection (category engine_selection).
type EngineSelection struct {
	Operation   string        // operation: what selected, such as select_best_engine
	Host        string        // selected_host
	Port        int           // selected_port
	ContainerID string        // container_id
	Duration    time.Duration // duration_ms
	Err         error         // error: null when the selection succeeded
}

// OrchestratorHealth is one reading of /orchestrator/status (category
// orchestrator_health); what it does not say is left out, never written as 0.
type OrchestratorHealth struct {
	// Status: healthy, degraded, unavailable (the orchestrator's); or
	// unreachable (a call got no answer) and reachable (the first answer
	// after such calls), for which only the Counts known are written: pass
	// the cause as attributes (error, error_class).
	Status             string
	CanProvision       bool   // can_provision
	BlockedReason      string // blocked_reason: why provisioning is blocked, in words ("" when it is not)
	BlockedReasonCode  string // blocked_reason_code: circuit_breaker, vpn_disconnected, max_capacity
	RecoveryETASeconds int    // recovery_eta_seconds: the orchestrator's estimate; 0: none, left out
	VPNConnected       bool   // vpn_connected
	CapacityTotal      Count  // capacity_total
	CapacityUsed       Count  // capacity_used
	CapacityAvailable  Count  // capacity_available
	EngineCount        Count  // engine_count
	StreamCount        Count  // stream_count
}

// Count is a number a reading may not have; the zero value is unknown and
// left out of the line (no 0 that would read as a fact).
type Count struct {
	n     int
	known bool
}

// Known returns the count n.
func Known(n int) Count { return Count{n: n, known: true} }

// Value returns the count and whether it is known.
func (c Count) Value() (int, bool) { return c.n, c.known }

// StreamEvent is a stream lifecycle event (category streams).
type StreamEvent struct {
	Type     string        // event_type: stream_started, stream_ended, ...; also the message
	StreamID string        // stream_id
	EngineID string        // engine_id: the engine's container ID
	Duration time.Duration // duration_ms
}

// Disconnect is how a stream or request ended (category disconnects).
type Disconnect struct {
	StreamID    string        // stream_id
	AceID       string        // ace_id: the content
	Reason      string        // reason: completed, client_disconnected, timeout, ...
	Err         error         // error: what ended it; null when it completed
	BytesCopied int64         // bytes_copied
	Duration    time.Duration // duration_ms
}
