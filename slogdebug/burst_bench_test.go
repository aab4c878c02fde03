//go:build unix

package slogdebug

import (
	"context"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBurst is a burst of LogRequest records with the default
// configuration (a drop policy, the default queue and flush interval):
// goroutines=1 is one goroutine logging 2M records flat out, goroutines=2
// two goroutines logging 500k each at once. One op is one whole burst, on
// a fresh Logger, from its first record to the last byte written (Close
// included). It reports the share of the records the handler had to drop
// (dropped-%) and how many records per second reached the files
// (written/s), and the CPU time the whole process spent per record, user
// and system, callers and writer together (cpu-ns/rec): on a machine
// shared with other work that figure moves less than the others. Run it
// with -benchtime 1x -count 6: every run is one burst, and each one must
// keep up.
func BenchmarkBurst(b *testing.B) {
	for _, tc := range []struct {
		name       string
		goroutines int
		each       int
	}{
		{"goroutines=1", 1, 2_000_000},
		{"goroutines=2", 2, 500_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			var dropped, written uint64
			var elapsed, cpu time.Duration
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				dir, err := os.MkdirTemp(b.TempDir(), "burst")
				if err != nil {
					b.Fatal(err)
				}
				l, err := New(Config{Enabled: true, Dir: dir}, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				var ready, wg sync.WaitGroup
				ready.Add(1)
				for range tc.goroutines {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ready.Wait()
						for range tc.each {
							l.LogRequest(ctx, benchMethod, benchPath, benchDur, benchStatus, benchAceID)
						}
					}()
				}
				b.StartTimer()
				cpuStart := cpuTime(b)
				start := time.Now()
				ready.Done()
				wg.Wait()
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				cpu += cpuTime(b) - cpuStart
				b.StopTimer()
				st := l.Stats().Categories["requests"]
				dropped += st.Dropped
				written += st.Written
				if err := os.RemoveAll(dir); err != nil { // a burst writes 0.3-0.6 GB
					b.Fatal(err)
				}
			}
			total := float64(b.N * tc.goroutines * tc.each)
			b.ReportMetric(100*float64(dropped)/total, "dropped-%")
			b.ReportMetric(float64(written)/elapsed.Seconds(), "written/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/rec")
		})
	}
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
