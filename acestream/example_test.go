package acestream_test

import (
	"fmt"

	"github.com/proxydebug/debugmode/acestream"
)

// A Count left unset is unknown, and its field is left out of the line;
// Known(0) is a real zero.
func ExampleKnown() {
	health := acestream.OrchestratorHealth{Status: "degraded", CapacityUsed: acestream.Known(0)}
	for _, c := range []struct {
		name  string
		count acestream.Count
	}{{"capacity_used", health.CapacityUsed}, {"capacity_total", health.CapacityTotal}} {
		if n, ok := c.count.Value(); ok {
			fmt.Printf("%s=%d\n", c.name, n)
		} else {
			fmt.Printf("%s left out\n", c.name)
		}
	}
	// Output:
	// capacity_used=0
	// capacity_total left out
}
