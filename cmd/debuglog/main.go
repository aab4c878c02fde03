// Command debuglog gets answers out of debug-mode files — this library's
// and the orchestrator's — across both systems.
//
//	debuglog summary DIR...                 line counts, time spans, duration percentiles,
//	                                        stress events, errors, disconnects by reason
//	debuglog correlate --proxy DIR --orch DIR [--json]
//	                                        every proxy stress event and failed or slow
//	                                        request, with the orchestrator events that
//	                                        plausibly caused it, ranked
//	debuglog request ID [DIR...]            everything one request did, across both
//	                                        systems, gaps measured
//	debuglog timeline [--follow] [DIR...]   both systems merged in time order
//	debuglog report DIR... -o report.html   a self-contained, explorable HTML report
//
// debuglog COMMAND -h describes each command. The implementation is
// internal/debuglog.
package main

import (
	"os"

	"github.com/proxydebug/debugmode/internal/debuglog"
)

func main() {
	os.Exit(debuglog.Main(os.Args[1:]))
}
