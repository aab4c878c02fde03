package handler

import (
	"context"
	"encoding/hex"
	"log/slog"
)

// Stamp is what the context of a record adds to its line, right after
// msg: the ID of the request it was logged for (request_id) and the trace
// span it was logged in (trace_id and span_id, W3C trace context, written
// as lower-case hex). Options.Stamp reads it from the context, on the
// logging goroutine; the zero Stamp adds nothing. A record or a logger with
// a request_id of its own (not in a group) is not stamped: its line names
// another request.
type Stamp struct {
	RequestID string   // "" for none
	TraceID   [16]byte // all zero: no trace
	SpanID    [8]byte
}

// stampOf is the Stamp of ctx, by Options.Stamp (none without it).
func (s *sink) stampOf(ctx context.Context) Stamp {
	if s.opts.Stamp == nil || ctx == nil {
		return Stamp{}
	}
	return s.opts.Stamp(ctx)
}

// append writes request_id, trace_id and span_id.
func (st *Stamp) append(e *encoder) {
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
	var tid [32]byte
	var sid [16]byte
	hex.Encode(tid[:], st.TraceID[:])
	hex.Encode(sid[:], st.SpanID[:])
	e.sep()
	e.buf = append(e.buf, `"trace_id":"`...)
	e.buf = append(e.buf, tid[:]...)
	e.buf = append(e.buf, `","span_id":"`...)
	e.buf = append(e.buf, sid[:]...)
	e.buf = append(e.buf, '"')
	e.comma = true
}
