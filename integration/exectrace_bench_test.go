//go:build go1.25

package integration_test

import (
	"testing"
	"time"

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
