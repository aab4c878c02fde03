// Command debuglog gets answers out of debug-mode files — this library's
// and the orchestrator's — across both systems.
//
//	debuglog summary DIR...                 per session: requests by status code, slow
//	                                        starts (ttfb_ms), stalls (max_stall_ms); per
//	                                        category: lines, spans, duration percentiles,
//	                                        stress events, errors, disconnects by reason
//	debuglog correlate --proxy DIR --orch DIR [--brief] [--all] [--json]
//	                                        every proxy stress event and failed or slow
//	                                        request, with the orchestrator events that
//	                                        plausibly caused it, ranked; a storm is one
//	                                        finding (--all lists its members)
//	debuglog request ID [DIR...]            everything one request did, across both
//	                                        systems, gaps measured
//	debuglog timeline [--follow] [DIR...]   both systems merged in time order
//	debuglog report DIR... -o report.html   a self-contained, explorable HTML report
//
// Every command takes --session ID to read only that run's files (by
// default every session found, with a warning when several are mixed).
// debuglog -h lists the commands, debuglog COMMAND -h describes each. The
// implementation is internal/debuglog.
package main

import (
	"os"

	"github.com/proxydebug/debugmode/internal/debuglog"
)

func main() {
	os.Exit(debuglog.Main(os.Args[1:]))
}
