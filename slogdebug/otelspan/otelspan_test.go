package otelspan

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace"
)

func TestFromContext(t *testing.T) {
	_, _, ok := FromContext(context.Background())
	assert.False(t, ok, "no span")
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	gotTrace, gotSpan, ok := FromContext(ctx)
	assert.True(t, ok)
	assert.Equal(t, [16]byte(tid), gotTrace)
	assert.Equal(t, [8]byte(sid), gotSpan)
	_, _, ok = FromContext(trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid})))
	assert.False(t, ok, "an invalid span (no span ID)")
}
