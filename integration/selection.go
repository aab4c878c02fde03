package integration

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/proxydebug/debugmode/slogdebug"
)

// Engine is one engine of /engines.
type Engine struct {
	ContainerID string `json:"container_id"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Health      string `json:"health_status"`
}

// Engines lists the orchestrator's engines.
func (c *Client) Engines(ctx context.Context) ([]Engine, error) {
	var out []Engine
	if err := c.do(ctx, http.MethodGet, "/engines", nil, &out, false); err != nil {
		return nil, err
	}
	return out, nil
}

// ActiveStreams counts an engine's started streams.
func (c *Client) ActiveStreams(ctx context.Context, containerID string) (int, error) {
	var out []json.RawMessage
	path := "/streams?container_id=" + url.QueryEscape(containerID) + "&status=started"
	if err := c.do(ctx, http.MethodGet, path, nil, &out, false); err != nil {
		return 0, err
	}
	return len(out), nil
}

// EngineChoice is the engine a request is sent to.
type EngineChoice struct {
	Host        string
	Port        int
	ContainerID string
	// Attrs are logged with the selection, after its own fields: what the
	// choice was made from (engine_count, the chosen engine's load).
	Attrs []slog.Attr
}

// SelectEngine runs an engine selection of the proxy's own (choose) and
// logs it to "engine_selection" as operation, with its outcome, its
// duration and the choice's Attrs. SelectBestEngine is the built-in one.
func (c *Client) SelectEngine(ctx context.Context, operation string, choose func(context.Context) (EngineChoice, error)) (EngineChoice, error) {
	start := time.Now()
	choice, err := choose(ctx)
	c.log().LogEngineSelection(ctx, slogdebug.EngineSelection{Operation: operation, Host: choice.Host, Port: choice.Port,
		ContainerID: choice.ContainerID, Duration: time.Since(start), Err: err}, choice.Attrs...)
	return choice, err
}

// SelectBestEngine picks the healthy engine with the fewest active streams;
// with none it provisions one (with retry: a failure is a *NoEngineError,
// for WriteProvisionError). It is logged as select_best_engine, with
// engine_count (the engines listed) and, for an engine that was running,
// its active_streams.
func (c *Client) SelectBestEngine(ctx context.Context) (EngineChoice, error) {
	return c.SelectEngine(ctx, "select_best_engine", func(ctx context.Context) (EngineChoice, error) {
		engines, err := c.Engines(ctx)
		if err != nil {
			return EngineChoice{}, err
		}
		count := slog.Int("engine_count", len(engines))
		best, bestLoad := -1, 0
		for i, e := range engines {
			if e.Health != "" && e.Health != "healthy" {
				continue
			}
			n, err := c.ActiveStreams(ctx, e.ContainerID)
			if err != nil {
				continue
			}
			if best < 0 || n < bestLoad {
				best, bestLoad = i, n
			}
		}
		if best >= 0 {
			e := engines[best]
			return EngineChoice{Host: e.Host, Port: e.Port, ContainerID: e.ContainerID,
				Attrs: []slog.Attr{count, slog.Int("active_streams", bestLoad)}}, nil
		}
		p, err := c.ProvisionWithRetry(ctx)
		if err != nil {
			return EngineChoice{Attrs: []slog.Attr{count}}, err
		}
		host := "127.0.0.1"
		if u, err := url.Parse(c.base); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		return EngineChoice{Host: host, Port: p.HostHTTPPort, ContainerID: p.ContainerID,
			Attrs: []slog.Attr{count, slog.Bool("provisioned", true)}}, nil
	})
}
