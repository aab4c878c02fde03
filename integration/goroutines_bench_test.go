package integration_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// BenchmarkMiddlewareGoroutines is what DEBUG_GOROUTINES adds to a request
// through Middleware, debug mode on (goroutines=off, then on: profiler
// labels and a slow-start watch per request), for a handler that answers
// 1 KiB at once, in process (no network).
func BenchmarkMiddlewareGoroutines(b *testing.B) {
	body := make([]byte, 1<<10)
	for _, on := range []bool{false, true} {
		name := "goroutines=off"
		if on {
			name = "goroutines=on"
		}
		b.Run(name, func(b *testing.B) {
			log, err := slogdebug.New(slogdebug.Config{Enabled: true, Goroutines: on, Dir: b.TempDir()}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			defer log.Close()
			h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
			req := httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			b.StopTimer()
			if err := log.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
