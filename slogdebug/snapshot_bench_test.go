package slogdebug

import (
	"context"
	"io"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"

	"github.com/proxydebug/debugmode/internal/redact"
)

// BenchmarkGoroutineSnapshot is one goroutine snapshot (DEBUG_GOROUTINES)
// of a process with 1,000 requests in flight, each blocked on a channel in
// a goroutine of its own under its profiler labels: its time, and its size
// (bytes/snapshot).
func BenchmarkGoroutineSnapshot(b *testing.B) {
	const requests = 1000
	release := make(chan struct{})
	var started, done sync.WaitGroup
	for i := range requests {
		started.Add(1)
		done.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("request_id", "req-"+strconv.Itoa(i), "route", "/ace/getstream"), func(context.Context) {
			defer done.Done()
			started.Done()
			<-release
		})
	}
	started.Wait()
	defer func() {
		close(release)
		done.Wait()
	}()
	g := goroutineProfile{red: redact.New()}
	var size int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n, err := g.WriteTo(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}
