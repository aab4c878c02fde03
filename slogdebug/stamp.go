package slogdebug

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/reqid"
)

// contextStamp is the category handler's Options.Stamp: the request's ID
// (package reqid) and the trace span a record was logged in, the
// OpenTelemetry span's when the context has one (so the lines point at the
// traces of a tracing backend), the request's own trace otherwise.
func contextStamp(ctx context.Context) handler.Stamp {
	var st handler.Stamp
	ids, traceID, spanID := reqid.DecodedFrom(ctx)
	if ids != nil {
		st.RequestID = ids.RequestID
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		st.TraceID, st.SpanID = sc.TraceID(), sc.SpanID()
		return st
	}
	if ids != nil {
		st.TraceID, st.SpanID = traceID, spanID
	}
	return st
}
