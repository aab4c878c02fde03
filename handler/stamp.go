package handler

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/proxydebug/debugmode/reqid"
)

// stamp is what a record's context adds to its line: the request IDs of
// package reqid, and the OpenTelemetry span the record was logged in.
type stamp struct {
	ids   *reqid.IDs // immutable
	trace trace.TraceID
	span  trace.SpanID
	otel  bool
}

// stampOf reads a context's request IDs and OpenTelemetry span.
func stampOf(ctx context.Context) stamp {
	st := stamp{ids: reqid.From(ctx)}
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			st.trace, st.span, st.otel = sc.TraceID(), sc.SpanID(), true
		}
	}
	return st
}

// append writes request_id, trace_id and span_id: the span's IDs when the
// record was logged in an OpenTelemetry span, the request's otherwise.
func (st stamp) append(e *encoder) {
	if st.ids != nil {
		e.appendAttr(slog.String(requestIDKey, st.ids.RequestID))
	}
	switch {
	case st.otel:
		if e.truncated {
			return
		}
		if e.room() < len(`,"trace_id":"","span_id":""`)+32+16 {
			e.truncated = true // the line's limit holds for these too
			return
		}
		var tid [32]byte
		var sid [16]byte
		hexEncode(tid[:], st.trace[:])
		hexEncode(sid[:], st.span[:])
		e.sep()
		e.buf = append(e.buf, `"trace_id":"`...)
		e.buf = append(e.buf, tid[:]...)
		e.buf = append(e.buf, `","span_id":"`...)
		e.buf = append(e.buf, sid[:]...)
		e.buf = append(e.buf, '"')
		e.comma = true
	case st.ids != nil && st.ids.TraceID != "":
		e.appendAttr(slog.String("trace_id", st.ids.TraceID))
		e.appendAttr(slog.String("span_id", st.ids.SpanID))
	}
}

// hexEncode writes src as lower-case hex into dst (twice as long).
func hexEncode(dst, src []byte) {
	for i, b := range src {
		dst[2*i], dst[2*i+1] = hex[b>>4], hex[b&0xF]
	}
}
