// Package otelspan lets debug mode's lines carry the OpenTelemetry span of
// a record's context: set slogdebug.Config.SpanFromContext to FromContext.
// Only a program that imports it links OpenTelemetry; without it the lines
// carry the request's own trace and span (package reqid, W3C traceparent).
package otelspan

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// FromContext returns the trace and span IDs of the valid OpenTelemetry
// span in ctx, if it has one.
func FromContext(ctx context.Context) (traceID [16]byte, spanID [8]byte, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return traceID, spanID, false
	}
	return sc.TraceID(), sc.SpanID(), true
}
