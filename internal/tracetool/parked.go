package tracetool

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// WaitParked returns once n goroutines stand in fn blocked on a channel
// receive (the goroutine profile with states, debug=2, says so): closing
// a channel just before the receive does not tell that the receive has
// begun.
func WaitParked(t testing.TB, fn string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a bound to fail by, not a timing
	for {
		var b bytes.Buffer
		if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
			t.Fatal(err)
		}
		parked := 0
		for _, g := range strings.Split(b.String(), "\n\n") {
			if strings.Contains(g, "[chan receive") && strings.Contains(g, fn) {
				parked++
			}
		}
		if parked >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines blocked in %s, want %d:\n%s", parked, fn, n, b.String())
		}
		runtime.Gosched()
	}
}
