package integration

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Client talks to the engine orchestrator and logs what it does. Make it
// with New; it is safe for concurrent use.
type Client struct {
	base    string            // without a trailing slash
	host    string            // the orchestrator's host: where the engines it provisions listen
	logger  *slogdebug.Logger // nil: dflt's
	dflt    followDefault
	http    *http.Client  // without a Timeout: do puts it in each call's context
	timeout time.Duration // the HTTP client's Timeout
	opts    Options       // with the defaults filled in
	cache   engineCache   // GET /engines, cached for Options.EngineCache
	reach   reachability  // whether calls reach the orchestrator
	now     func() time.Time
}

// Options configures a Client made by New; the zero value is the defaults.
type Options struct {
	APIKey string // sent as a Bearer token to provisioning and stream events; never logged
	// HTTPClient makes the calls (copied, wrapped by Transport); nil: 30s timeout.
	// Its Timeout bounds each call, body included, as a context deadline.
	HTTPClient *http.Client
	// EngineCache reuses an engine list fetched less than this long ago (such
	// as 2s), one call shared among callers that miss together; 0: none.
	EngineCache time.Duration
	// MaxStreamsPerEngine is the streams an engine may serve; 0: no limit.
	MaxStreamsPerEngine int

	// ProvisionWithRetry's attempts (default 3) and back-off (default 30s,
	// doubling up to 120s) unless the orchestrator gives an ETA; Sleep waits.
	MaxAttempts                   int
	RetryBackoff, MaxRetryBackoff time.Duration
	Sleep                         func(ctx context.Context, d time.Duration) error
	// Patience is how long a request whose context has no deadline waits
	// for an engine, retries included (default 10s): ProvisionWithRetry
	// retries only when the orchestrator's recovery ETA (or, without one,
	// the back-off) fits in what is left of it, and otherwise answers at
	// once. A context deadline takes its place. Negative: no limit but the
	// context's (every attempt is made, whatever the wait).
	Patience time.Duration
}

// New returns a Client of the orchestrator at baseURL (such as
// http://orchestrator:8000) logging through logger (nil: slogdebug.Default()).
func New(baseURL string, logger *slogdebug.Logger, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("integration: orchestrator URL %q: want an http or https URL such as http://orchestrator:8000", redact.Default().RedactText(baseURL))
	}
	if opts.EngineCache < 0 || opts.MaxStreamsPerEngine < 0 {
		return nil, fmt.Errorf("integration: Options.EngineCache %v, MaxStreamsPerEngine %d: want 0 (none) or more", opts.EngineCache, opts.MaxStreamsPerEngine)
	}
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), host: cmp.Or(u.Hostname(), "127.0.0.1"), logger: logger, opts: opts.withDefaults(), now: time.Now}
	c.cache.ttl, c.cache.now, c.cache.fetching = opts.EngineCache, time.Now, make(chan struct{}, 1)
	c.http, c.timeout = &http.Client{}, 30*time.Second
	if opts.HTTPClient != nil {
		hc := *opts.HTTPClient
		c.http, c.timeout = &hc, hc.Timeout
	}
	// The Timeout goes into each call's context (do) rather than stay the
	// client's: a client with a Timeout whose transport is wrapped takes
	// net/http's legacy cancellation road (see outgoing), a goroutine and a
	// timer per call for nothing.
	c.http.Timeout = 0
	c.http.Transport = Transport(c.http.Transport, logger)
	return c, nil
}

func (o Options) withDefaults() Options {
	o.MaxAttempts = cmp.Or(max(o.MaxAttempts, 0), 3)
	o.RetryBackoff = cmp.Or(max(o.RetryBackoff, 0), 30*time.Second)
	o.MaxRetryBackoff = cmp.Or(max(o.MaxRetryBackoff, 0), 120*time.Second)
	if o.Patience == 0 {
		o.Patience = 10 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

func (c *Client) log() *slogdebug.Logger {
	if c.logger != nil {
		return c.logger
	}
	return c.dflt.get()
}

func loggerOr(l *slogdebug.Logger) *slogdebug.Logger {
	if l != nil {
		return l
	}
	return slogdebug.Default()
}

// do sends a request and decodes a 2xx JSON answer into out; else an *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any, auth bool) error {
	callCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel() // after the answer is read
	}
	fail := func(what string, err error) error {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			what += fmt.Sprintf("no complete answer within the HTTP client's Timeout (%v; Options.HTTPClient): ", c.timeout)
		}
		return fmt.Errorf("orchestrator %s %s: %s%w", method, path, what, err)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fail("", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(callCtx, method, c.base+path, body)
	if err != nil {
		return fail("", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && c.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if unreached(ctx, err) {
			down, failures := c.reach.failed(c.now())
			logUnreachable(ctx, c.log(), method, c.base+path, err, down, failures)
		}
		return fail("", err)
	}
	defer resp.Body.Close()
	down, failures := c.reach.answered(c.now)
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		err = fail("reading the answer: ", err)
	case resp.StatusCode/100 != 2:
		err = newError(method, path, resp.StatusCode, data)
	case out != nil:
		if uerr := json.Unmarshal(data, out); uerr != nil {
			err = fail("decoding the answer: ", uerr)
		}
	}
	// The end of a run of calls that did not reach it: a reading, unless
	// the health monitor's own follows (its poll answered).
	if failures > 0 && (err != nil || ctx.Value(pollKey{}) == nil) {
		logReachable(ctx, c.log(), method, c.base+path, resp.StatusCode, down, failures)
	}
	return err
}

// Error is an orchestrator answer other than 2xx. Blocked marks a refusal to
// provision (503 with a detail), the fields after it its detail.
type Error struct {
	Method, Path       string
	StatusCode         int
	Body               string // the answer, trimmed
	Blocked            bool
	Reason             string // "provisioning_blocked"
	Code               string // circuit_breaker, vpn_disconnected, max_capacity ("" when not known)
	Message            string
	RecoveryETASeconds int  // whole seconds, rounded up; 0: no estimate
	CanRetry           bool // false: ProvisionWithRetry stops
	ShouldWait         bool
}

// Error says what the orchestrator answered, or why it refused.
func (e *Error) Error() string {
	if !e.Blocked {
		body := e.Body
		if len(body) > 200 {
			body = body[:200] + "..."
		}
		return fmt.Sprintf("orchestrator %s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, body)
	}
	msg := "provisioning blocked"
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RecoveryETASeconds > 0 {
		msg += fmt.Sprintf("; recovery expected in %ds", e.RecoveryETASeconds)
	}
	return msg
}

// newError reads an answer with a status other than 2xx; a 503's detail (an
// object, or from older orchestrators a string) is a refusal to provision.
func newError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: status, Body: string(bytes.TrimSpace(body))}
	var envelope struct {
		Detail json.RawMessage `json:"detail"`
	}
	if status != http.StatusServiceUnavailable || json.Unmarshal(body, &envelope) != nil || len(envelope.Detail) == 0 {
		return e
	}
	var detail struct {
		Error              string  `json:"error"`
		Code               string  `json:"code"`
		Message            string  `json:"message"`
		RecoveryETASeconds float64 `json:"recovery_eta_seconds"`
		CanRetry           *bool   `json:"can_retry"`
		ShouldWait         bool    `json:"should_wait"`
	}
	var legacy string
	switch {
	case json.Unmarshal(envelope.Detail, &detail) == nil:
		e.Blocked, e.CanRetry = true, detail.CanRetry == nil || *detail.CanRetry
		e.Reason, e.Code, e.Message, e.ShouldWait = detail.Error, detail.Code, detail.Message, detail.ShouldWait
		e.RecoveryETASeconds = int(math.Ceil(min(max(detail.RecoveryETASeconds, 0), 1e9))) // whole seconds, rounded up: never too early
	case json.Unmarshal(envelope.Detail, &legacy) == nil:
		e.Blocked, e.CanRetry, e.Message = true, true, legacy
		// The legacy string names the reason in words; keep the code too.
		switch lower := strings.ToLower(legacy); {
		case strings.Contains(lower, "circuit breaker") || strings.Contains(lower, "circuit_breaker"):
			e.Code = "circuit_breaker"
		case strings.Contains(lower, "vpn"):
			e.Code = "vpn_disconnected"
		case strings.Contains(lower, "capacity"):
			e.Code = "max_capacity"
		}
	}
	return e
}

// StreamStarted is the body of POST /events/stream_started.
type StreamStarted struct {
	ContainerID string `json:"container_id"`
	Engine      struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	} `json:"engine"`
	Stream struct {
		KeyType string `json:"key_type"`
		Key     string `json:"key"`
	} `json:"stream"`
	Session struct {
		PlaybackSessionID string `json:"playback_session_id"`
		StatURL           string `json:"stat_url"`
		CommandURL        string `json:"command_url"`
		IsLive            int    `json:"is_live"` // 1 for a live stream, as the engine says it and the orchestrator takes it
	} `json:"session"`
	Labels map[string]string `json:"labels"`
}

// StreamID is the proxy's stream ID: the stream_id label, or
// <key>|<playback session id>.
func (e *StreamStarted) StreamID() string {
	if id := e.Labels["stream_id"]; id != "" {
		return id
	}
	return e.Stream.Key + "|" + e.Session.PlaybackSessionID
}

// StreamEnded is the body of POST /events/stream_ended.
type StreamEnded struct {
	ContainerID string `json:"container_id"`
	StreamID    string `json:"stream_id"`
	Reason      string `json:"reason"`
}

// ReportStreamStarted tells the orchestrator a stream started, and logs it.
func (c *Client) ReportStreamStarted(ctx context.Context, ev StreamStarted) error {
	start := time.Now()
	err := c.do(ctx, http.MethodPost, "/events/stream_started", ev, nil, true)
	c.logReport(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: ev.StreamID(), EngineID: ev.ContainerID, Duration: time.Since(start)}, err)
	return err
}

// ReportStreamEnded tells the orchestrator a stream ended, and logs it: a
// streams line stream_ended; inside Middleware, once reported, reported
// and report_ms on the request's line instead, which says how the stream
// ended.
func (c *Client) ReportStreamEnded(ctx context.Context, ev StreamEnded, streamDuration time.Duration) error {
	start := time.Now()
	c.cache.release(ev.ContainerID) // its room is free at once for the next selection
	err := c.do(ctx, http.MethodPost, "/events/stream_ended", ev, nil, true)
	report := time.Since(start)
	if err == nil && addToRequest(ctx, slog.Bool("reported", true), slog.Duration("report", report)) {
		return nil // Middleware's requests line tells how the stream ended: it says the report went through too
	}
	c.logReport(ctx, acestream.StreamEvent{Type: "stream_ended", StreamID: ev.StreamID, EngineID: ev.ContainerID, Duration: streamDuration},
		err, slog.String("reason", ev.Reason), slog.Duration("report", report))
	return err
}

func (c *Client) logReport(ctx context.Context, e acestream.StreamEvent, err error, attrs ...slog.Attr) {
	log := c.log()
	log.LogStreamEvent(ctx, e, append(attrs, slog.Bool("reported", err == nil))...)
	if err != nil {
		log.LogError(ctx, "orchestrator_client", "report_"+e.Type, err, slog.String("stream_id", e.StreamID), slog.String("engine_id", e.EngineID))
	}
}
