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

import "log/slog"

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

// The one answer to "which category is this record", used by the category
// files, stress detection, the selection of categories (DEBUG_CATEGORIES)
// and the execution trace's mirror alike: the last non-empty "category"
// attribute, the record's own over the logger's bound ones, whatever groups
// the logger opened (inside a slog.Group value it is an ordinary attribute).

// Of returns the category a attribute names: the value of a "category"
// attribute, resolved, when it is not empty.
func Of(a slog.Attr) (string, bool) {
	if a.Key != Key {
		return "", false
	}
	c := a.Value.Resolve().String()
	return c, c != ""
}

// Bound returns the category of a logger that had bound cat ("" for none)
// once attrs are bound too (With).
func Bound(cat string, attrs []slog.Attr) string {
	for _, a := range attrs {
		if c, ok := Of(a); ok {
			cat = c
		}
	}
	return cat
}

// InRecord returns the category of r logged by a logger that bound cat (""
// for none).
func InRecord(cat string, r slog.Record) string {
	r.Attrs(func(a slog.Attr) bool {
		if c, ok := Of(a); ok {
			cat = c
		}
		return true
	})
	return cat
}
