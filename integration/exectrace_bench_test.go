//go:build go1.25

package integration_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// BenchmarkStreamingProxyExecutionTrace is BenchmarkStreamingProxy with
// debug mode on, with the execution trace recorder off and on (a 10 s
// window): what keeping the runtime's execution trace, the requests' trace
// tasks and the mirrored records cost a streaming proxy. make
// bench-exectrace runs the two interleaved and compares them.
func BenchmarkStreamingProxyExecutionTrace(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  slogdebug.Config
	}{
		{"exectrace=off", slogdebug.Config{Enabled: true}},
		{"exectrace=on", slogdebug.Config{Enabled: true, ExecutionTrace: 10 * time.Second}},
	} {
		b.Run(c.name, func(b *testing.B) { streamThroughProxy(b, c.cfg) })
	}
}

// BenchmarkMiddlewareExecutionTrace is one request through Middleware (a
// handler that writes a few bytes, the requests line into the files) with
// the execution trace recorder off and on: off, the middleware asks
// trace.IsEnabled and nothing more; on, each request is a trace task with
// its request_id logged, and its requests line is a trace log event.
func BenchmarkMiddlewareExecutionTrace(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  slogdebug.Config
	}{
		{"exectrace=off", slogdebug.Config{Enabled: true}},
		{"exectrace=on", slogdebug.Config{Enabled: true, ExecutionTrace: 10 * time.Second}},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.cfg.Dir = b.TempDir()
			log, err := slogdebug.New(c.cfg, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			defer log.Close()
			h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "ok")
			}))
			req := httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil)
			req.Header.Set("X-Request-ID", "bench-request-1")
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				h.ServeHTTP(w, req)
			}
		})
	}
}
