// Command quickstart is a minimal AceStream proxy with debug mode: the
// program the README shows. Run it with DEBUG_MODE=true and an
// orchestrator at ORCHESTRATOR_URL.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := slogdebug.ConfigFromEnv() // DEBUG_MODE, DEBUG_LOG_DIR, ...: an error only with DEBUG_STRICT=true
	if err != nil {
		return err
	}
	logger, err := slogdebug.Init(cfg) // the console as before, the category files, slog.SetDefault
	if err != nil {
		return err // a Config built wrong in code: a bad setting is said on the console instead
	}
	// Close on return, and on SIGTERM or Ctrl-C, which then end the program
	// as they would have: what is queued and session_end reach the files.
	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()

	orch, err := integration.New(getenv("ORCHESTRATOR_URL", "http://127.0.0.1:8000"), logger,
		integration.Options{APIKey: os.Getenv("ORCHESTRATOR_API_KEY")})
	if err != nil {
		return err
	}
	health := orch.MonitorHealth(context.Background(), 5*time.Second) // orchestrator_health
	defer health.Stop()

	mux := http.NewServeMux()
	mux.Handle("/ace/getstream", &proxy{orch: orch, logger: logger})
	mux.HandleFunc("/ace/status", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	// The middleware logs every request (requests, with how its stream
	// ended), and gives each request its IDs; health probes are left out.
	handler := integration.Middleware(logger, "/ace/status")(mux)

	addr := getenv("PROXY_ADDR", ":8080")
	slog.Info("listening", "addr", addr) // plain slog: the console, as before
	return http.ListenAndServe(addr, handler)
}

// proxy serves GET /ace/getstream?id=<content id> from an engine the
// orchestrator gives.
type proxy struct {
	orch   *integration.Client
	logger *slogdebug.Logger
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context() // carries the request's IDs: every line logged with it has them
	aceID := integration.AceID(r)
	engine, err := p.orch.SelectBestEngine(ctx) // engine_selection; provisions one (with retry) if none runs
	if err != nil {
		integration.WriteProvisionError(w, err) // 503, Retry-After from the orchestrator's ETA
		return
	}
	engineURL := url.URL{Scheme: "http", Host: engine.Host + ":" + strconv.Itoa(engine.Port), Path: "/ace/getstream", RawQuery: r.URL.RawQuery}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, engineURL.String(), nil)
	if err != nil { // the engine's address is the orchestrator's: the client can do nothing about it
		p.logger.LogError(ctx, "proxy", "engine_request", err, slog.String("container_id", engine.ContainerID)) // errors
		http.Error(w, "engine unreachable", http.StatusBadGateway)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.logger.LogError(ctx, "proxy", "engine_request", err, slog.String("container_id", engine.ContainerID)) // errors
		http.Error(w, "engine unreachable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()

	started := integration.StreamStarted{ContainerID: engine.ContainerID}
	started.Engine.Host, started.Engine.Port = engine.Host, engine.Port
	started.Stream.KeyType, started.Stream.Key = "content_id", aceID
	started.Session.PlaybackSessionID = w.Header().Get("X-Request-ID") // the middleware's request ID

	_ = p.orch.ReportStreamStarted(ctx, started) // streams

	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	res := integration.CopyStream(ctx, p.logger, w, resp.Body, integration.Stream{ID: started.StreamID(), AceID: aceID,
		Attrs: []slog.Attr{slog.String("container_id", engine.ContainerID)}}) // how it ended: on the request's line

	// ctx is canceled once the client has gone: the report keeps the
	// request's IDs without its cancellation.
	ended := integration.StreamEnded{ContainerID: engine.ContainerID, StreamID: started.StreamID(), Reason: res.Reason}
	_ = p.orch.ReportStreamEnded(context.WithoutCancel(ctx), ended, res.Duration) // streams
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
