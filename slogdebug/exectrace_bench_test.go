//go:build go1.25

package slogdebug

import (
	"context"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/reqid"
)

// BenchmarkLogRequestExecutionTrace is the caller's cost of one LogRequest
// through the debug-mode fan-out with the execution trace recorder off and
// on (a request's context, so the mirrored trace log event carries its
// request_id): the runtime's tracing of the call plus the trace log event.
func BenchmarkLogRequestExecutionTrace(b *testing.B) {
	ctx := reqid.With(context.Background(), reqid.FromHeaders("bench-request-1", ""))
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"exectrace=off", Config{Enabled: true}},
		{"exectrace=on", Config{Enabled: true, ExecutionTrace: 10 * time.Second}},
	} {
		b.Run(c.name, func(b *testing.B) {
			l := benchLogger(b, c.cfg)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
			}
			finish(b, l)
		})
	}
}
