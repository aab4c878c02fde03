// Package integration holds the proxy's integration points with debug
// mode, all logging through one *slogdebug.Logger (nil: slogdebug.Default()):
//
//   - Middleware: each request's IDs (package reqid) in its context and on
//     the calls to the orchestrator, one "requests" line per request, and
//     one "disconnects" line per stream or client that went away;
//   - New: the orchestrator's Client — engine selection (SelectBestEngine,
//     or SelectEngine around a selection of your own), provisioning with
//     retry, health polling (MonitorHealth), stream events — each logging
//     to its category, every call to "orchestrator_calls" (Transport);
//   - CopyStream, or LogStreamEnd for a copier of your own: how a stream
//     ended;
//   - WriteProvisionError: the 503 with Retry-After when no engine could be
//     had.
//
// Wire it in a few lines:
//
//	orch, err := integration.New("http://orchestrator:8000", logger, integration.Options{APIKey: key})
//	if err != nil {
//		log.Fatal(err)
//	}
//	health := orch.MonitorHealth(ctx, 5*time.Second)
//	defer health.Stop()
//	http.ListenAndServe(addr, integration.Middleware(logger, "/ace/status")(proxy))
package integration
