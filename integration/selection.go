package integration

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/proxydebug/debugmode/acestream"
)

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
	c.log().LogEngineSelection(ctx, acestream.EngineSelection{Operation: operation, Host: choice.Host, Port: choice.Port,
		ContainerID: choice.ContainerID, Duration: time.Since(start), Err: err}, choice.Attrs...)
	return choice, err
}

// SelectBestEngine picks an engine from one engine list (GET /engines,
// cached with WithEngineCache) and, when none has room (WithMaxStreamsPerEngine),
// provisions one with retry (a failure is a *NoEngineError, for
// WriteProvisionError). Among engines with room it prefers, in order:
// healthy over unknown over unhealthy, fewer active streams, a forwarded P2P
// port, and the engine unused the longest (last_stream_usage). It is logged
// as select_best_engine with engine_count and, for an engine that was
// running, its active_streams, health_status and forwarded (max_streams
// when set, engines_cached when the list was not fetched for this call).
func (c *Client) SelectBestEngine(ctx context.Context) (EngineChoice, error) {
	return c.SelectEngine(ctx, "select_best_engine", func(ctx context.Context) (EngineChoice, error) {
		engines, cached, err := c.engines.get(ctx, c.fetchEngines)
		if err != nil {
			return EngineChoice{}, err
		}
		attrs := make([]slog.Attr, 0, 6)
		attrs = append(attrs, slog.Int("engine_count", len(engines)))
		if c.maxStreams > 0 {
			attrs = append(attrs, slog.Int("max_streams", c.maxStreams))
		}
		if cached {
			attrs = append(attrs, slog.Bool("engines_cached", true))
		}
		if e, ok := c.engines.pick(engines, func(list []Engine) int { return bestEngine(list, c.maxStreams) }); ok {
			attrs = append(attrs, slog.Int("active_streams", e.ActiveStreams()),
				slog.String("health_status", e.Health), slog.Bool("forwarded", e.Forwarded))
			return EngineChoice{Host: e.Host, Port: e.Port, ContainerID: e.ContainerID, Attrs: attrs}, nil
		}
		p, err := c.ProvisionWithRetry(ctx)
		if err != nil {
			return EngineChoice{Attrs: attrs}, err
		}
		host := "127.0.0.1"
		if u, err := url.Parse(c.base); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		return EngineChoice{Host: host, Port: p.HostHTTPPort, ContainerID: p.ContainerID,
			Attrs: append(attrs, slog.Bool("provisioned", true))}, nil
	})
}

// bestEngine returns the index of the engine SelectBestEngine prefers
// among those with fewer than maxStreams active streams (any number when
// maxStreams is 0), or -1 when none has room. Of engines alike in every
// respect, the first listed.
func bestEngine(engines []Engine, maxStreams int) int {
	best := -1
	for i := range engines {
		e := &engines[i]
		if maxStreams > 0 && e.ActiveStreams() >= maxStreams {
			continue
		}
		if best < 0 || preferred(e, &engines[best]) {
			best = i
		}
	}
	return best
}

// preferred reports whether a is a better choice than b: healthier, then
// less loaded, then forwarded, then unused for longer.
func preferred(a, b *Engine) bool {
	if ra, rb := healthRank(a.Health), healthRank(b.Health); ra != rb {
		return ra < rb
	}
	if na, nb := a.ActiveStreams(), b.ActiveStreams(); na != nb {
		return na < nb
	}
	if a.Forwarded != b.Forwarded {
		return a.Forwarded
	}
	return a.LastStreamUsage.Before(b.LastStreamUsage)
}

// healthRank orders health statuses, best first.
func healthRank(status string) int {
	switch status {
	case "healthy":
		return 0
	case "unhealthy":
		return 2
	default: // unknown, or not reported
		return 1
	}
}
