// Package integration holds the proxy's integration points with debug mode:
// Middleware (request IDs, requests and disconnects lines), New (the
// orchestrator's Client), CopyStream or LogStreamEnd, and WriteProvisionError
// (503 with Retry-After when no engine could be had):
//
//	orch, err := integration.New("http://orchestrator:8000", logger, integration.Options{APIKey: key})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer orch.MonitorHealth(ctx, 5*time.Second).Stop()
//	http.ListenAndServe(addr, integration.Middleware(logger, "/ace/status")(proxy))
package integration
