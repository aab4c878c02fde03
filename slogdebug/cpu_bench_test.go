//go:build linux

package slogdebug

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD: getrusage for the calling thread.
const rusageThread = 1

// callerCPU measures the CPU time of the benchmark's own goroutine, user
// and system, apart from the writer's and from anything else running on
// the machine: wall time on a shared machine counts whatever preempted
// it, CPU time does not. Call it before the loop, with the timer reset,
// and call the func it returns after the loop: it reports
// caller-cpu-ns/op. The goroutine is locked to its thread in between.
func callerCPU(b *testing.B) (report func()) {
	runtime.LockOSThread()
	start := threadCPU(b)
	return func() {
		used := threadCPU(b) - start
		runtime.UnlockOSThread()
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "caller-cpu-ns/op")
	}
}

// threadCPU is the CPU time the calling thread has used so far.
func threadCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
