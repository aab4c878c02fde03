// Package category names debug mode's categories: a record's "category"
// attribute picks its file, <session>_<category>.jsonl. Any other name works
// too; these strings are documented, so programs write them as literals.
package category

import "log/slog"

// Key is the attribute whose value is a record's category.
const Key = "category"

// The categories debug mode writes.
const (
	// Session holds session_start, session_end and debug mode's switches.
	Session = "session"
	// Requests holds one line per HTTP request (LogRequest, the middleware).
	Requests = "requests"
	// EngineSelection holds engine selections (LogEngineSelection).
	EngineSelection = "engine_selection"
	// Provisioning holds provisioning attempts (LogProvisioning).
	Provisioning = "provisioning"
	// OrchestratorHealth holds the orchestrator's status readings.
	OrchestratorHealth = "orchestrator_health"
	// OrchestratorCalls holds one line per HTTP call to the orchestrator.
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

// A record's category, for every user alike: its last non-empty "category"
// attribute, the record's own over bound ones, whatever groups are open.

// Of returns the category a non-empty "category" attribute names.
func Of(a slog.Attr) (string, bool) {
	if a.Key != Key {
		return "", false
	}
	c := a.Value.Resolve().String()
	return c, c != ""
}

// Bound returns a logger's category (cat before) once attrs are bound too.
func Bound(cat string, attrs []slog.Attr) string {
	for _, a := range attrs {
		if c, ok := Of(a); ok {
			cat = c
		}
	}
	return cat
}

// InRecord returns the category of r logged by a logger that bound cat.
func InRecord(cat string, r slog.Record) string {
	r.Attrs(func(a slog.Attr) bool {
		if c, ok := Of(a); ok {
			cat = c
		}
		return true
	})
	return cat
}

// Selector is what a Logger's handler answers (slogdebug's): whether its
// files take a category's records now (debug mode on, and the category not
// left out by DEBUG_CATEGORIES), so that integration's Transport spends
// nothing on orchestrator_calls while they would be dropped.
type Selector interface{ Selected(category string) bool }
