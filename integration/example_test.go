package integration_test

import (
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// A client of the program's own for the orchestrator: its calls forward the
// request's IDs and are logged in orchestrator_calls, and its Timeout
// bounds each call as a deadline in the call's context.
func ExampleWrapClient() {
	logger := slogdebug.Default()
	orch := integration.WrapClient(&http.Client{Timeout: 10 * time.Second}, logger)

	handler := func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://orchestrator:8000/engines", nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		resp, err := orch.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		// ... choose an engine, stream ...
	}
	log.Fatal(http.ListenAndServe(":8080", integration.Middleware(logger)(http.HandlerFunc(handler))))
}

// The handler puts the engine it chose on its request's requests line.
func ExampleAddAttrs() {
	logger := slogdebug.Default()
	orch, err := integration.New("http://orchestrator:8000", logger, integration.Options{})
	if err != nil {
		log.Fatal(err)
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		engine, err := orch.SelectBestEngine(r.Context())
		if err != nil {
			integration.WriteProvisionError(w, err)
			return
		}
		integration.AddAttrs(r.Context(), slog.String("container_id", engine.ContainerID))
		// ... stream from engine.Host:engine.Port ...
	}
	log.Fatal(http.ListenAndServe(":8080", integration.Middleware(logger, "/ace/status")(http.HandlerFunc(handler))))
}
