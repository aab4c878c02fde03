//go:build !linux

package slogdebug

import "testing"

// callerCPU reports nothing where the calling thread's CPU time cannot be
// read (getrusage's RUSAGE_THREAD is Linux's).
func callerCPU(*testing.B) (report func()) { return func() {} }
