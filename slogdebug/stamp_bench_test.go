package slogdebug

import (
	"context"
	"testing"

	"github.com/proxydebug/debugmode/reqid"
)

// BenchmarkContextStamp is what every record logged with a context pays
// for its request_id: a request's context (ids) and one without IDs
// (background).
func BenchmarkContextStamp(b *testing.B) {
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"ctx=ids", reqid.With(context.Background(), reqid.New())},
		{"ctx=background", context.Background()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = requestIDOf(tc.ctx)
			}
		})
	}
}
