// Package integration holds the proxy's integration points with debug mode:
// Middleware (request IDs, one requests line per request; AddAttrs adds the
// handler's attributes), New (the orchestrator's Client), WrapClient or
// Transport (an HTTP client of the program's own that forwards the request
// IDs), CopyStream or LogStreamEnd, and WriteProvisionError (503 with
// Retry-After when no engine could be had). With debug mode off they cost
// the proxy a request's IDs (given and echoed) and nothing else:
//
//	orch, err := integration.New("http://orchestrator:8000", logger, integration.Options{APIKey: key})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer orch.MonitorHealth(ctx, 5*time.Second).Stop()
//	http.ListenAndServe(addr, integration.Middleware(logger, "/ace/status")(proxy))
package integration
