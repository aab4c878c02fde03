package integration_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(forkPeerEnv) != "" { // BenchmarkForkRequestPath's other process
		if err := forkPeer(); err != nil {
			fmt.Fprintln(os.Stderr, "fork peer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
