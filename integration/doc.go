// Package integration holds the proxy's integration points with debug
// mode: HTTP middleware that logs every request and client disconnect,
// request-ID propagation (package reqid) into logs and onto calls to the
// orchestrator, and wrappers for the orchestrator work — engine selection,
// provisioning with retry, health polling, stream lifecycle events and
// stream copying — each logging to its category.
//
// Wire it in a few lines:
//
//	logger, _ := slogdebug.Init(cfg)
//	orch := &integration.Client{BaseURL: "http://orchestrator:8000", APIKey: key, Log: logger}
//	health := orch.MonitorHealth(ctx, 5*time.Second)
//	defer health.Stop()
//	http.ListenAndServe(addr, integration.Middleware(logger.Logger)(proxy))
package integration
