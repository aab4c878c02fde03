// Package category names debug mode's categories. A record's category is
// the value of its "category" attribute (Key); it picks the file the record
// is written to, <session>_<category>.jsonl:
//
//	logger.With("category", "provisioning").Debug("warmup")
//
// The typed helpers of package slogdebug, the integration points of package
// integration and the stress rules of package stress use these names; any
// other name works too (it is sanitised into a file-name component). The
// names are the documented strings: programs write them as literals.
package category

// Key is the attribute whose value is a record's category.
const Key = "category"

// The categories debug mode writes.
const (
	// Session holds session_start, session_end and the switches of debug
	// mode; the category handler writes it itself.
	Session = "session"
	// Requests holds one line per HTTP request (LogRequest, the middleware).
	Requests = "requests"
	// EngineSelection holds engine selections (LogEngineSelection).
	EngineSelection = "engine_selection"
	// Provisioning holds provisioning attempts (LogProvisioning).
	Provisioning = "provisioning"
	// OrchestratorHealth holds the orchestrator's status readings
	// (LogOrchestratorHealth).
	OrchestratorHealth = "orchestrator_health"
	// OrchestratorCalls holds one line per HTTP call to the orchestrator
	// (integration's transport).
	OrchestratorCalls = "orchestrator_calls"
	// Streams holds stream lifecycle events (LogStreamEvent).
	Streams = "streams"
	// Stress holds stress events (package stress, LogStressEvent).
	Stress = "stress"
	// Errors holds errors with their context (LogError).
	Errors = "errors"
	// Disconnects holds how streams ended (LogDisconnect).
	Disconnects = "disconnects"
)

// Builtin returns the categories above, in the order of the documentation.
func Builtin() []string {
	return []string{Session, Requests, EngineSelection, Provisioning, OrchestratorHealth,
		OrchestratorCalls, Streams, Stress, Errors, Disconnects}
}
