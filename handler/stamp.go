package handler

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"

	"github.com/proxydebug/debugmode/internal/safego"
)

// stamp is what the context of a record adds to its line, right after
// msg (see Options.Stamp); the zero stamp adds nothing.
type stamp struct {
	RequestID string   // "" for none
	TraceID   [16]byte // all zero: no trace
	SpanID    [8]byte
}

// stampOf is the stamp of ctx, by Options.Stamp (none without it). A
// panicking Stamp (a program's span reader, say) is counted and reported,
// and the line goes without a stamp.
func (s *sink) stampOf(ctx context.Context) (st stamp) {
	if s.opts.Stamp != nil && ctx != nil {
		defer func() {
			if p := recover(); p != nil {
				st = stamp{}
				s.notePanic(fmt.Errorf("handler: Options.Stamp panicked; recovered, the line is written without request_id and trace: %w", safego.Recovered(p)), 0)
			}
		}()
		st.RequestID, st.TraceID, st.SpanID = s.opts.Stamp(ctx)
	}
	return st
}

// append writes request_id, trace_id and span_id, unless the line is cut.
func (st *stamp) append(e *encoder) {
	if st.RequestID != "" {
		e.appendAttr(slog.String(requestIDKey, st.RequestID))
	}
	if st.TraceID == ([16]byte{}) || e.truncated {
		return
	}
	if e.room() < len(`,"trace_id":"","span_id":""`)+32+16 {
		e.truncated = true // the line's limit holds for these too
		return
	}
	e.sep()
	e.buf = hex.AppendEncode(append(e.buf, `"trace_id":"`...), st.TraceID[:])
	e.buf = hex.AppendEncode(append(e.buf, `","span_id":"`...), st.SpanID[:])
	e.buf = append(e.buf, '"')
	e.comma = true
}
