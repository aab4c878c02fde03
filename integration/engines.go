package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Engine is one engine of the orchestrator's GET /engines, with what an
// engine selection weighs: health, load, whether its P2P port is forwarded
// and when it last served a stream. Times the orchestrator leaves out, sends
// as null or in a form that does not parse are zero: they only break ties.
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
	StreamCount     *int              `json:"stream_count,omitempty"`
}

// ActiveStreams is how many streams the engine serves: the orchestrator's
// stream_count where it sends one, else the length of its stream list.
func (e *Engine) ActiveStreams() int {
	if e.StreamCount != nil {
		return *e.StreamCount
	}
	return len(e.Streams)
}

// UnmarshalJSON decodes an engine of /engines, reading its times leniently
// (RFC 3339, or the orchestrator's ISO 8601 without a zone, taken as UTC)
// so one odd timestamp never fails a whole engine list.
func (e *Engine) UnmarshalJSON(data []byte) error {
	type plain Engine
	var raw struct {
		*plain
		FirstSeen       json.RawMessage `json:"first_seen"`
		LastSeen        json.RawMessage `json:"last_seen"`
		LastHealthCheck json.RawMessage `json:"last_health_check"`
		LastStreamUsage json.RawMessage `json:"last_stream_usage"`
	}
	raw.plain = (*plain)(e)
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	e.FirstSeen = parseTime(raw.FirstSeen)
	e.LastSeen = parseTime(raw.LastSeen)
	e.LastHealthCheck = parseTime(raw.LastHealthCheck)
	e.LastStreamUsage = parseTime(raw.LastStreamUsage)
	return nil
}

// parseTime reads a JSON timestamp: RFC 3339, or ISO 8601 without a zone
// (UTC); anything else (null, a number, garbage) is the zero time.
func parseTime(raw json.RawMessage) time.Time {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil || s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC); err == nil {
		return t
	}
	return time.Time{}
}

// clone returns a deep copy of e, so callers of a cached list never share
// its slices and maps.
func (e Engine) clone() Engine {
	if e.Labels != nil {
		labels := make(map[string]string, len(e.Labels))
		for k, v := range e.Labels {
			labels[k] = v
		}
		e.Labels = labels
	}
	if e.Streams != nil {
		e.Streams = append([]string(nil), e.Streams...)
	}
	if e.StreamCount != nil {
		n := *e.StreamCount
		e.StreamCount = &n
	}
	return e
}

// Engines lists the orchestrator's engines. With WithEngineCache it answers
// from a list fetched less than that long ago, and callers that miss
// together share one call; each caller gets a copy of its own.
func (c *Client) Engines(ctx context.Context) ([]Engine, error) {
	list, _, err := c.engines.get(ctx, c.fetchEngines)
	return list, err
}

func (c *Client) fetchEngines(ctx context.Context) ([]Engine, error) {
	var out []Engine
	if err := c.do(ctx, http.MethodGet, "/engines", nil, &out, false); err != nil {
		return nil, err
	}
	return out, nil
}

// StreamState is one stream of the orchestrator's GET /streams.
type StreamState struct {
	ID          string `json:"id"`
	ContainerID string `json:"container_id"`
	KeyType     string `json:"key_type"`
	Key         string `json:"key"`
	Status      string `json:"status"` // started or ended
}

// EngineStreams lists an engine's started streams (GET /streams?container_id=
// &status=started). Engine selection does not need it: /engines carries
// each engine's streams.
func (c *Client) EngineStreams(ctx context.Context, containerID string) ([]StreamState, error) {
	var out []StreamState
	path := "/streams?container_id=" + url.QueryEscape(containerID) + "&status=started"
	if err := c.do(ctx, http.MethodGet, path, nil, &out, false); err != nil {
		return nil, err
	}
	return out, nil
}

// engineCache keeps the last engine list for ttl (no caching when ttl is
// zero) and lets concurrent misses share one fetch.
type engineCache struct {
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	list       []Engine
	at         time.Time
	inflight   *engineFetch
	generation int // bumped by invalidate: a fetch begun before is not kept
}

// engineFetch is one fetch of the list that others may wait for.
type engineFetch struct {
	done chan struct{}
	list []Engine
	err  error
}

// get returns a copy of the list and whether it came from the cache (or
// another caller's fetch) rather than a call of this caller's.
func (ec *engineCache) get(ctx context.Context, fetch func(context.Context) ([]Engine, error)) ([]Engine, bool, error) {
	if ec.ttl <= 0 {
		list, err := fetch(ctx)
		return list, false, err
	}
	ec.mu.Lock()
	if ec.list != nil && ec.now().Sub(ec.at) < ec.ttl {
		list := cloneEngines(ec.list)
		ec.mu.Unlock()
		return list, true, nil
	}
	if f := ec.inflight; f != nil {
		ec.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if f.err == nil {
			return cloneEngines(f.list), true, nil
		}
		// The other caller's fetch failed (its context may have ended,
		// not ours): try once ourselves, uncached.
		list, err := fetch(ctx)
		return list, false, err
	}
	f := &engineFetch{done: make(chan struct{})}
	ec.inflight = f
	generation := ec.generation
	ec.mu.Unlock()

	// The fetch ends the wait of the others even if it panics.
	defer func() {
		ec.mu.Lock()
		ec.inflight = nil
		if f.err == nil && f.list != nil && ec.generation == generation {
			// A copy of its own: pick changes it under ec.mu, while the
			// waiters copy f.list without it.
			ec.list, ec.at = cloneEngines(f.list), ec.now()
		}
		ec.mu.Unlock()
		close(f.done)
	}()
	f.err = errFetchAbandoned
	f.list, f.err = fetch(ctx)
	if f.err == nil && f.list == nil {
		f.list = []Engine{}
	}
	return cloneEngines(f.list), false, f.err
}

// pick chooses an engine of list with choose (an index, or -1 for none).
// With a cache holding a fresh list, it chooses on the cache's own list
// instead and counts a stream more on the engine chosen: selections served
// by one cached list see each other's choices (a limit of streams per
// engine holds between fetches), as the orchestrator's next list will once
// the stream is reported. The count is the orchestrator's again at the
// next fetch.
func (ec *engineCache) pick(list []Engine, choose func([]Engine) int) (Engine, bool) {
	if ec.ttl > 0 {
		ec.mu.Lock()
		defer ec.mu.Unlock()
		// The cache holds the caller's list or a newer one, unless it was
		// dropped (a provisioning) or the caller's list was its own fetch
		// after a shared one failed: then the caller's list it is.
		if ec.list != nil && ec.now().Sub(ec.at) < ec.ttl {
			i := choose(ec.list)
			if i < 0 {
				return Engine{}, false
			}
			e := &ec.list[i]
			chosen := e.clone() // as it was chosen: its load before this stream
			n := e.ActiveStreams() + 1
			e.StreamCount = &n
			return chosen, true
		}
	}
	i := choose(list)
	if i < 0 {
		return Engine{}, false
	}
	return list[i], true
}

// release counts a stream less on the cached engine containerID, for a
// stream that ended. It is called before the orchestrator is told: a list
// fetched in between still counts the stream (one too many, for a moment),
// where the other order could count it out twice.
func (ec *engineCache) release(containerID string) {
	if ec.ttl <= 0 || containerID == "" {
		return
	}
	ec.mu.Lock()
	defer ec.mu.Unlock()
	for i := range ec.list {
		if e := &ec.list[i]; e.ContainerID == containerID {
			if n := e.ActiveStreams() - 1; n >= 0 {
				e.StreamCount = &n
			}
		}
	}
}

// invalidate drops the cached list; a fetch under way still answers its
// waiters but is not kept.
func (ec *engineCache) invalidate() {
	ec.mu.Lock()
	ec.list = nil
	ec.generation++
	ec.mu.Unlock()
}

// errFetchAbandoned is what waiters see of a fetch that panicked.
var errFetchAbandoned = errors.New("integration: the engine list fetch did not finish")

func cloneEngines(list []Engine) []Engine {
	if list == nil {
		return nil
	}
	out := make([]Engine, len(list))
	for i := range list {
		out[i] = list[i].clone()
	}
	return out
}
