package slogdebug

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/proxydebug/debugmode/reqid"
)

// contextStamp is Options.Stamp: the request's ID and the OpenTelemetry
// span, or else the request's own.
func contextStamp(ctx context.Context) (requestID string, traceID [16]byte, spanID [8]byte) {
	ids, tid, sid := reqid.DecodedFrom(ctx)
	if ids != nil {
		requestID = ids.RequestID
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return requestID, sc.TraceID(), sc.SpanID()
	}
	if ids != nil {
		traceID, spanID = tid, sid
	}
	return requestID, traceID, spanID
}
