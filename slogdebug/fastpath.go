package slogdebug

import (
	"context"
	"log/slog"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/stress"
)

// The typed helpers' fast path. With the default set-up, a helper's record
// goes to the files and to stress detection only (the console takes
// nothing below Info). For a record that fires nothing, stress detection
// needs only its duration (stress.Handler.Quiet), and the files need only
// its values (handler.Handler.HandleValues): the helper hands them over
// without building a slog.Record, and the queue keeps the values alone.
// The lines are the same; any other set-up (a console taking Debug, the
// execution trace's mirror, a program's handlers), an error to write, or
// an extra attribute that stress detection reads goes through the fan-out.

// The helpers' schemas: each helper's fields in its order, the strings and
// the numbers in the slots of handler.Values that it fills.
var (
	requestFields = []handler.Field{
		{Key: "method", Kind: handler.FieldString},     // Str[0]
		{Key: "path", Kind: handler.FieldString},       // Str[1]
		{Key: "duration", Kind: handler.FieldDuration}, // Num[0]
		{Key: "status_code", Kind: handler.FieldInt},   // Num[1]
		{Key: "ace_id", Kind: handler.FieldString},     // Str[2]
	}
	engineSelectionFields = []handler.Field{
		{Key: "operation", Kind: handler.FieldString},     // Str[0]
		{Key: "selected_host", Kind: handler.FieldString}, // Str[1]
		{Key: "selected_port", Kind: handler.FieldInt},    // Num[0]
		{Key: "container_id", Kind: handler.FieldString},  // Str[2]
		{Key: "duration", Kind: handler.FieldDuration},    // Num[1]
		{Key: "error", Kind: handler.FieldNull},
	}
	provisioningFields = []handler.Field{
		{Key: "operation", Kind: handler.FieldString},  // Str[0]
		{Key: "duration", Kind: handler.FieldDuration}, // Num[0]
		{Key: "success", Kind: handler.FieldBool},      // Num[1]
		{Key: "error", Kind: handler.FieldNull},
		{Key: "retry_count", Kind: handler.FieldInt}, // Num[2]
	}
	streamFields = []handler.Field{
		{Key: "event_type", Kind: handler.FieldString}, // Str[0]
		{Key: "stream_id", Kind: handler.FieldString},  // Str[1]
		{Key: "engine_id", Kind: handler.FieldString},  // Str[2]
		{Key: "duration", Kind: handler.FieldDuration}, // Num[0]
	}
	disconnectFields = []handler.Field{
		{Key: "stream_id", Kind: handler.FieldString}, // Str[0]
		{Key: "ace_id", Kind: handler.FieldString},    // Str[1]
		{Key: "reason", Kind: handler.FieldString},    // Str[2]
		{Key: "error", Kind: handler.FieldNull},
		{Key: "bytes_copied", Kind: handler.FieldInt},  // Num[0]
		{Key: "duration", Kind: handler.FieldDuration}, // Num[1]
	}
)

// helperFields are the fields of the helpers that have a fast path, by
// category; nil for the others.
var helperFields = [numCategories][]handler.Field{
	idxRequests:        requestFields,
	idxEngineSelection: engineSelectionFields,
	idxProvisioning:    provisioningFields,
	idxStreams:         streamFields,
	idxDisconnects:     disconnectFields,
}

// helperSchemas makes the helpers' schemas for the files' handler.
func helperSchemas(files *handler.Handler) (*[numCategories]*handler.Schema, error) {
	var schemas [numCategories]*handler.Schema
	for i, fields := range helperFields {
		if fields == nil {
			continue
		}
		sc, err := files.NewSchema(slog.LevelDebug, fields...)
		if err != nil {
			return nil, err
		}
		schemas[i] = sc
	}
	return &schemas, nil
}

// fastPath is where a typed helper's record goes when nothing but the
// files and stress detection take it.
type fastPath struct {
	files  *handler.Handler
	stress *stress.Handler // nil: detection is off
	schema *handler.Schema
}

// boundSet is one category's bound handlers, and their fast path when
// they have one.
type boundSet struct {
	hs   []boundHandler
	fast *fastPath
}

// fastPathOf returns the fast path of a category's bound handlers: nil
// unless they are the files (taking the schema's level), stress detection
// at most, and handlers that do not take the schema's level.
func fastPathOf(hs []boundHandler, sc *handler.Schema) *fastPath {
	if sc == nil {
		return nil
	}
	fp := &fastPath{schema: sc}
	for _, h := range hs {
		switch x := h.Handler.(type) {
		case *handler.Handler:
			if fp.files != nil || h.level == noFloor || h.level > sc.Level() {
				return nil
			}
			fp.files = x
		case *stress.Handler:
			if fp.stress != nil {
				return nil
			}
			fp.stress = x
		default:
			if h.level == noFloor || h.level <= sc.Level() {
				return nil // it takes the record: it needs a slog.Record
			}
		}
	}
	if fp.files == nil {
		return nil
	}
	return fp
}

// fast returns the fast path of category i's helper, or nil.
func (l *Logger) fast(i categoryIndex) *fastPath {
	st := l.st.Load()
	if st.bound == nil || l.rebound() {
		return nil
	}
	if l.derived != nil {
		return l.derived.boundFor(st, i).fast
	}
	return st.bound[i].fast
}

// quiet reports whether stress detection would do nothing for a record
// with duration d and attrs (and no error; see stress.Handler.Quiet).
func (fp *fastPath) quiet(d time.Duration, attrs []slog.Attr) bool {
	return fp.stress == nil || fp.stress.Quiet(d, attrs...)
}

// handle hands the record to the files. A panic (of a context's Value
// method, say) is recovered, as the fan-out recovers it: a log call never
// takes the host down.
func (fp *fastPath) handle(ctx context.Context, t time.Time, msg string, v *handler.Values, attrs []slog.Attr) {
	defer func() {
		_ = recover() // as handleSafely drops handleRecovering's error
	}()
	_ = fp.files.HandleValues(ctx, t, msg, fp.schema, v, attrs...)
}
