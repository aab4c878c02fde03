package integration_test

import (
	"log"
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
