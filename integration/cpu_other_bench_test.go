//go:build !(linux || darwin || freebsd)

package integration_test

import "time"

// processCPU reports nothing where getrusage is not at hand.
func processCPU() (d time.Duration, ok bool) { return 0, false }
