// Package integration holds the proxy's integration points with debug
// mode, all logging through one *slogdebug.Logger (nil: slogdebug.Default()):
// Middleware (request IDs, the requests and disconnects lines), New (the
// orchestrator's Client: engine selection, provisioning with retry, health
// polling, stream events, every call logged by Transport), CopyStream or
// LogStreamEnd (how a stream ended), and WriteProvisionError (the 503 with
// Retry-After when no engine could be had):
//
//	orch, err := integration.New("http://orchestrator:8000", logger, integration.Options{APIKey: key})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer orch.MonitorHealth(ctx, 5*time.Second).Stop()
//	http.ListenAndServe(addr, integration.Middleware(logger, "/ace/status")(proxy))
package integration
