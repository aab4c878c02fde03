package integration

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/proxydebug/debugmode/acestream"
)

// Engine is one engine of the orchestrator's GET /engines. Times missing or
// unparseable are zero: they only break ties.
type Engine struct {
	ContainerID     string            `json:"container_id"`
	ContainerName   string            `json:"container_name,omitempty"`
	Host            string            `json:"host"`
	Port            int               `json:"port"`
	Labels          map[string]string `json:"labels,omitempty"`
	Forwarded       bool              `json:"forwarded"`     // its P2P port is forwarded through the VPN (faster)
	Health          string            `json:"health_status"` // healthy, unhealthy, unknown ("" from older orchestrators)
	FirstSeen       time.Time         `json:"first_seen"`
	LastSeen        time.Time         `json:"last_seen"`
	LastHealthCheck time.Time         `json:"last_health_check"`
	LastStreamUsage time.Time         `json:"last_stream_usage"` // zero: never used
	Streams         []string          `json:"streams"`           // IDs of its started streams
	ActiveStreams   int               `json:"stream_count"`      // the orchestrator's stream_count, else len(Streams)
}

// engineJSON decodes times leniently: one odd timestamp never fails the list.
type engineJSON Engine

func (e *engineJSON) UnmarshalJSON(data []byte) error {
	type plain Engine
	var raw struct {
		*plain
		FirstSeen       json.RawMessage `json:"first_seen"`
		LastSeen        json.RawMessage `json:"last_seen"`
		LastHealthCheck json.RawMessage `json:"last_health_check"`
		LastStreamUsage json.RawMessage `json:"last_stream_usage"`
		StreamCount     *int            `json:"stream_count"`
	}
	raw.plain = (*plain)(e)
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	e.FirstSeen, e.LastSeen = parseTime(raw.FirstSeen), parseTime(raw.LastSeen)
	e.LastHealthCheck, e.LastStreamUsage = parseTime(raw.LastHealthCheck), parseTime(raw.LastStreamUsage)
	e.ActiveStreams = len(e.Streams)
	if raw.StreamCount != nil {
		e.ActiveStreams = *raw.StreamCount
	}
	return nil
}

// parseTime reads RFC 3339 or zoneless ISO 8601 (UTC); anything else is zero.
func parseTime(raw json.RawMessage) time.Time {
	var s string
	_ = json.Unmarshal(raw, &s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, _ = time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	}
	return t
}

// Engines lists the orchestrator's engines (cached per Options.EngineCache), as a copy.
func (c *Client) Engines(ctx context.Context) ([]Engine, error) {
	list, _, err := c.cache.get(ctx, c.fetchEngines)
	return list, err
}

func (c *Client) fetchEngines(ctx context.Context) ([]Engine, error) {
	var out []engineJSON
	if err := c.do(ctx, http.MethodGet, "/engines", nil, &out, false); err != nil {
		return nil, err
	}
	list := make([]Engine, len(out))
	for i := range out {
		list[i] = Engine(out[i])
	}
	return list, nil
}

// engineCache keeps the last engine list for ttl (none when 0); callers that
// miss together share one fetch.
type engineCache struct {
	ttl        time.Duration
	now        func() time.Time
	fetching   chan struct{} // the fetch token: one fetch at a time
	mu         sync.Mutex
	list       []Engine
	at         time.Time
	generation int // bumped by invalidate: a fetch begun before is not kept
}

// fresh reports whether the cache holds a list younger than ttl; ec.mu is held.
func (ec *engineCache) fresh() bool { return ec.list != nil && ec.now().Sub(ec.at) < ec.ttl }

// cached returns a copy of the cached list, if it is fresh, and the generation.
func (ec *engineCache) cached() ([]Engine, int, bool) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if !ec.fresh() {
		return nil, ec.generation, false
	}
	return cloneEngines(ec.list), ec.generation, true
}

// get returns a copy of the list and whether it came from the cache.
func (ec *engineCache) get(ctx context.Context, fetch func(context.Context) ([]Engine, error)) ([]Engine, bool, error) {
	if ec.ttl <= 0 {
		list, err := fetch(ctx)
		return list, false, err
	}
	if list, _, ok := ec.cached(); ok {
		return list, true, nil
	}
	select {
	case ec.fetching <- struct{}{}:
		defer func() { <-ec.fetching }()
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	list, generation, ok := ec.cached()
	if ok { // fetched while this caller waited
		return list, true, nil
	}
	list, err := fetch(ctx)
	if err != nil {
		return nil, false, err
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if ec.generation == generation {
		ec.list, ec.at = cloneEngines(list), ec.now()
	}
	return list, false, nil
}

// pick chooses the best engine of list, or of the fresh cached list, counting
// a stream more there so that selections from one list see each other's.
func (ec *engineCache) pick(list []Engine, maxStreams int) (Engine, bool) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	cached := ec.ttl > 0 && ec.fresh()
	if cached {
		list = ec.list
	}
	i := bestEngine(list, maxStreams)
	if i < 0 {
		return Engine{}, false
	}
	chosen := cloneEngines(list[i : i+1])[0] // as it was chosen: its load before this stream
	if cached {
		list[i].ActiveStreams++
	}
	return chosen, true
}

// release counts a stream less on a cached engine before the orchestrator is
// told: a list fetched in between over-counts for a moment, never under-counts.
func (ec *engineCache) release(containerID string) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	for i := range ec.list {
		if e := &ec.list[i]; e.ContainerID == containerID && e.ActiveStreams > 0 {
			e.ActiveStreams--
		}
	}
}

// invalidate drops the cached list; a fetch under way is not kept.
func (ec *engineCache) invalidate() {
	ec.mu.Lock()
	ec.list, ec.generation = nil, ec.generation+1
	ec.mu.Unlock()
}

func cloneEngines(list []Engine) []Engine {
	out := slices.Clone(list)
	for i := range out {
		out[i].Labels, out[i].Streams = maps.Clone(out[i].Labels), slices.Clone(out[i].Streams)
	}
	return out
}

// EngineChoice is the engine a request is sent to: running, or provisioned.
type EngineChoice struct {
	Host        string
	Port        int
	ContainerID string
	// Attrs are logged with the selection (engine_count, the engine's load).
	Attrs []slog.Attr
}

// SelectEngine runs the proxy's own engine selection and logs it to
// "engine_selection" as operation, with its outcome and duration.
func (c *Client) SelectEngine(ctx context.Context, operation string, choose func(context.Context) (EngineChoice, error)) (EngineChoice, error) {
	start := time.Now()
	choice, err := choose(ctx)
	c.log().LogEngineSelection(ctx, acestream.EngineSelection{Operation: operation, Host: choice.Host, Port: choice.Port,
		ContainerID: choice.ContainerID, Duration: time.Since(start), Err: err}, choice.Attrs...)
	return choice, err
}

// SelectBestEngine picks the healthiest, least loaded engine (then forwarded,
// then unused longest), provisioning one when none has room; logged as
// select_best_engine. Its error (the engine list not had, or provisioning
// failed: the cause in "errors") is for WriteProvisionError, and wraps the
// cause (errors.As finds an *Error).
func (c *Client) SelectBestEngine(ctx context.Context) (EngineChoice, error) {
	return c.SelectEngine(ctx, "select_best_engine", func(ctx context.Context) (EngineChoice, error) {
		engines, cached, err := c.cache.get(ctx, c.fetchEngines)
		if err != nil {
			return EngineChoice{}, c.noEngine(ctx, "select_best_engine", err, cmp.Or(recoveryETA(err), c.opts.RetryBackoff))
		}
		attrs := []slog.Attr{slog.Int("engine_count", len(engines))}
		if c.opts.MaxStreamsPerEngine > 0 {
			attrs = append(attrs, slog.Int("max_streams", c.opts.MaxStreamsPerEngine))
		}
		if cached {
			attrs = append(attrs, slog.Bool("engines_cached", true))
		}
		if e, ok := c.cache.pick(engines, c.opts.MaxStreamsPerEngine); ok {
			attrs = append(attrs, slog.Int("active_streams", e.ActiveStreams),
				slog.String("health_status", e.Health), slog.Bool("forwarded", e.Forwarded))
			return EngineChoice{Host: e.Host, Port: e.Port, ContainerID: e.ContainerID, Attrs: attrs}, nil
		}
		choice, err := c.ProvisionWithRetry(ctx)
		choice.Attrs = append(attrs, choice.Attrs...)
		return choice, err
	})
}

// bestEngine returns the index of the preferred engine with room, or -1.
func bestEngine(engines []Engine, maxStreams int) int {
	best := -1
	for i := range engines {
		e := &engines[i]
		if maxStreams > 0 && e.ActiveStreams >= maxStreams {
			continue
		}
		if best < 0 || preferred(e, &engines[best]) {
			best = i
		}
	}
	return best
}

// preferred reports whether a is a better choice than b.
func preferred(a, b *Engine) bool {
	if c := cmp.Or(cmp.Compare(healthRank[a.Health], healthRank[b.Health]), cmp.Compare(a.ActiveStreams, b.ActiveStreams)); c != 0 {
		return c < 0
	}
	if a.Forwarded != b.Forwarded {
		return a.Forwarded
	}
	return a.LastStreamUsage.Before(b.LastStreamUsage)
}

// healthRank orders health statuses, best first: unknown, or not reported, is 0.
var healthRank = map[string]int{"healthy": -1, "unhealthy": 1}
