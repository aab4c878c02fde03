package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Client talks to the engine orchestrator and logs what it does through
// the debug logger: engine selection, provisioning (with retry), health,
// and stream events.
type Client struct {
	// BaseURL is the orchestrator's address, e.g. http://orchestrator:8000.
	BaseURL string
	// APIKey is sent as a Bearer token to the endpoints that need it.
	APIKey string
	// Log receives the records; nil means slogdebug.Default() at the time
	// of each call.
	Log *slogdebug.Logger
	// HTTP makes the calls. Nil means a client with a 30s timeout whose
	// transport is Transport(http.DefaultTransport, Log): IDs forwarded,
	// every call logged.
	HTTP *http.Client
	// Retry is the provisioning retry policy; zero fields take defaults.
	Retry RetryPolicy
}

// RetryPolicy is how ProvisionWithRetry retries, after the proxy's rule:
// wait half the orchestrator's recovery ETA before the first retry and the
// whole ETA after; without an ETA wait DefaultBackoff, doubling up to
// MaxBackoff.
type RetryPolicy struct {
	MaxAttempts    int           // default 3
	DefaultBackoff time.Duration // default 30s
	MaxBackoff     time.Duration // default 120s
	// Sleep waits d or until ctx is done; nil means a timer. Tests and the
	// demo set it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.DefaultBackoff <= 0 {
		p.DefaultBackoff = 30 * time.Second
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 120 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Backoff is the wait before retry number retry (1 for the first retry)
// after err.
func (p RetryPolicy) Backoff(retry int, err error) time.Duration {
	p = p.withDefaults()
	var pe *ProvisionError
	if errors.As(err, &pe) && pe.RecoveryETASeconds > 0 {
		eta := time.Duration(pe.RecoveryETASeconds) * time.Second
		if retry == 1 {
			return eta / 2
		}
		return eta
	}
	d := p.DefaultBackoff
	for i := 1; i < retry && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

func (c *Client) log() *slogdebug.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slogdebug.Default()
}

// http returns the client that makes the calls. The default one is made
// per call, never stored: a Client is used from several goroutines, and its
// logger follows slogdebug.Default when Log is nil. It is cheap: its
// connections live in http.DefaultTransport.
func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: defaultTimeout, Transport: Transport(nil, c.log().Logger)}
}

// defaultTimeout bounds each call of a Client without its own HTTP client.
const defaultTimeout = 30 * time.Second

// do sends a request and decodes a 2xx JSON answer into out (when not nil).
// Any other status is an *HTTPError, or a *ProvisionError for a provisioning
// refusal.
func (c *Client) do(ctx context.Context, method, path string, in, out any, auth bool) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("orchestrator %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("orchestrator %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("orchestrator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("orchestrator %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		if pe := parseProvisionError(resp.StatusCode, data); pe != nil {
			return pe
		}
		return &HTTPError{Method: method, Path: path, StatusCode: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("orchestrator %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// HTTPError is an orchestrator answer with an unexpected status.
type HTTPError struct {
	Method, Path string
	StatusCode   int
	Body         string
}

func (e *HTTPError) Error() string {
	body := e.Body
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return fmt.Sprintf("orchestrator %s %s: HTTP %d: %s", e.Method, e.Path, e.StatusCode, body)
}

// ProvisionError is the orchestrator refusing to provision (HTTP 503 with a
// detail object, or the older plain-string detail).
type ProvisionError struct {
	StatusCode         int
	Reason             string // "provisioning_blocked"
	Code               string // circuit_breaker, vpn_disconnected, max_capacity ("" in the legacy form)
	Message            string
	RecoveryETASeconds int
	CanRetry           bool
	ShouldWait         bool
}

func (e *ProvisionError) Error() string {
	var b strings.Builder
	b.WriteString("provisioning blocked")
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RecoveryETASeconds > 0 {
		fmt.Fprintf(&b, "; recovery expected in %ds", e.RecoveryETASeconds)
	}
	return b.String()
}

// parseProvisionError reads a 503 answer's detail: an object with error,
// code, message, recovery_eta_seconds, can_retry and should_wait, or (older
// orchestrators) a plain string.
func parseProvisionError(status int, body []byte) *ProvisionError {
	if status != http.StatusServiceUnavailable {
		return nil
	}
	var envelope struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &envelope) != nil || len(envelope.Detail) == 0 {
		return nil
	}
	var detail struct {
		Error              string  `json:"error"`
		Code               string  `json:"code"`
		Message            string  `json:"message"`
		RecoveryETASeconds float64 `json:"recovery_eta_seconds"`
		CanRetry           *bool   `json:"can_retry"`
		ShouldWait         bool    `json:"should_wait"`
	}
	if err := json.Unmarshal(envelope.Detail, &detail); err == nil {
		pe := &ProvisionError{StatusCode: status, Reason: detail.Error, Code: detail.Code, Message: detail.Message,
			RecoveryETASeconds: int(detail.RecoveryETASeconds), CanRetry: true, ShouldWait: detail.ShouldWait}
		if detail.CanRetry != nil {
			pe.CanRetry = *detail.CanRetry
		}
		return pe
	}
	var legacy string
	if err := json.Unmarshal(envelope.Detail, &legacy); err == nil {
		pe := &ProvisionError{StatusCode: status, Message: legacy, CanRetry: true}
		// The legacy string names the reason in words; keep the code too.
		switch lower := strings.ToLower(legacy); {
		case strings.Contains(lower, "circuit breaker") || strings.Contains(lower, "circuit_breaker"):
			pe.Code = "circuit_breaker"
		case strings.Contains(lower, "vpn"):
			pe.Code = "vpn_disconnected"
		case strings.Contains(lower, "capacity"):
			pe.Code = "max_capacity"
		}
		return pe
	}
	return nil
}

// Provisioned is the orchestrator's answer to a provisioning request.
type Provisioned struct {
	ContainerID   string `json:"container_id"`
	ContainerName string `json:"container_name"`
	HostHTTPPort  int    `json:"host_http_port"`
}

// Provision asks the orchestrator for a new AceStream engine, once.
func (c *Client) Provision(ctx context.Context) (*Provisioned, error) {
	var out Provisioned
	if err := c.do(ctx, http.MethodPost, "/provision/acestream", struct{}{}, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// ProvisionWithRetry provisions, retrying refusals after the policy's
// back-off, and logs each step to "provisioning": every failed attempt
// (provision_attempt_failed, with its retry_count), each wait
// (provision_backoff), and the outcome (provision_success or
// provision_failed). It stops early when the orchestrator says it cannot
// retry or ctx is done.
func (c *Client) ProvisionWithRetry(ctx context.Context) (*Provisioned, error) {
	policy := c.Retry.withDefaults()
	log := c.log()
	start := time.Now()
	var lastErr error
	attempt := 0
	for attempt < policy.MaxAttempts {
		attempt++
		attemptStart := time.Now()
		p, err := c.Provision(ctx)
		if err == nil {
			log.LogProvisioning(ctx, "provision_success", time.Since(start), true, nil, attempt-1)
			return p, nil
		}
		lastErr = err
		log.LogProvisioning(ctx, "provision_attempt_failed", time.Since(attemptStart), false, err, attempt)
		var pe *ProvisionError
		if errors.As(err, &pe) && !pe.CanRetry {
			break
		}
		if attempt == policy.MaxAttempts || ctx.Err() != nil {
			break
		}
		wait := policy.Backoff(attempt, err)
		log.With(category.Key, category.Provisioning).LogAttrs(ctx, slog.LevelDebug, "provision_backoff",
			slog.String("operation", "provision_backoff"), slog.Duration("wait", wait), slog.Int("retry_count", attempt))
		if err := policy.Sleep(ctx, wait); err != nil {
			lastErr = fmt.Errorf("%w (gave up waiting: %v)", lastErr, err)
			break
		}
	}
	log.LogProvisioning(ctx, "provision_failed", time.Since(start), false, lastErr, attempt)
	return nil, lastErr
}

// RetryAfter is the Retry-After a proxy should send with its 503 when
// provisioning failed with err: the orchestrator's ETA, or the policy's
// first back-off.
func (c *Client) RetryAfter(err error) time.Duration {
	var pe *ProvisionError
	if errors.As(err, &pe) && pe.RecoveryETASeconds > 0 {
		return time.Duration(pe.RecoveryETASeconds) * time.Second
	}
	return c.Retry.withDefaults().DefaultBackoff
}

// WriteProvisionError answers a client whose stream could not be
// provisioned: 503 with Retry-After in whole seconds.
func (c *Client) WriteProvisionError(w http.ResponseWriter, err error) {
	secs := int((c.RetryAfter(err) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	http.Error(w, "no engine available: "+err.Error(), http.StatusServiceUnavailable)
}

// Status is the orchestrator's /orchestrator/status. Engines, Streams and
// Capacity are nil when the answer did not have them.
type Status struct {
	Status  string `json:"status"`
	Engines *struct {
		Total, Running, Healthy, Unhealthy int
	} `json:"engines"`
	Streams *struct {
		Active, Total int
	} `json:"streams"`
	Capacity *struct {
		Total, Used, Available int
	} `json:"capacity"`
	VPN struct {
		Enabled, Connected bool
	} `json:"vpn"`
	Provisioning struct {
		CanProvision         bool   `json:"can_provision"`
		CircuitBreakerState  string `json:"circuit_breaker_state"`
		BlockedReason        string `json:"blocked_reason"`
		BlockedReasonDetails *struct {
			Code               string  `json:"code"`
			Message            string  `json:"message"`
			RecoveryETASeconds float64 `json:"recovery_eta_seconds"`
			CanRetry           bool    `json:"can_retry"`
			ShouldWait         bool    `json:"should_wait"`
		} `json:"blocked_reason_details"`
	} `json:"provisioning"`
}

// Health maps a status onto the record LogOrchestratorHealth writes; what
// the status did not have stays unknown, and is left out of the line.
func (s *Status) Health() slogdebug.OrchestratorHealth {
	h := slogdebug.OrchestratorHealth{
		Status:        s.Status,
		CanProvision:  s.Provisioning.CanProvision,
		BlockedReason: s.Provisioning.BlockedReason,
		VPNConnected:  s.VPN.Connected,
	}
	if c := s.Capacity; c != nil {
		h.CapacityTotal, h.CapacityUsed, h.CapacityAvailable = slogdebug.Known(c.Total), slogdebug.Known(c.Used), slogdebug.Known(c.Available)
	}
	if s.Engines != nil {
		h.EngineCount = slogdebug.Known(s.Engines.Total)
	}
	if s.Streams != nil {
		h.StreamCount = slogdebug.Known(s.Streams.Active)
	}
	if d := s.Provisioning.BlockedReasonDetails; d != nil {
		h.BlockedReasonCode = d.Code
		h.RecoveryETASeconds = int(d.RecoveryETASeconds)
		if h.BlockedReason == "" {
			h.BlockedReason = d.Message
		}
	}
	return h
}

// Status fetches /orchestrator/status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.do(ctx, http.MethodGet, "/orchestrator/status", nil, &s, false); err != nil {
		return nil, err
	}
	return &s, nil
}

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
}

// SelectEngine runs the proxy's own engine selection and logs it to
// "engine_selection" with its duration and outcome.
func SelectEngine(ctx context.Context, log *slogdebug.Logger, operation string, selectFn func(context.Context) (EngineChoice, error)) (EngineChoice, error) {
	start := time.Now()
	choice, err := selectFn(ctx)
	log.LogEngineSelection(ctx, slogdebug.EngineSelection{Operation: operation, Host: choice.Host, Port: choice.Port,
		ContainerID: choice.ContainerID, Duration: time.Since(start), Err: err})
	return choice, err
}

// SelectBestEngine picks the healthy engine with the fewest active streams;
// with none it provisions one (with retry). It is logged as
// select_best_engine.
func (c *Client) SelectBestEngine(ctx context.Context) (EngineChoice, error) {
	return SelectEngine(ctx, c.log(), "select_best_engine", func(ctx context.Context) (EngineChoice, error) {
		engines, err := c.Engines(ctx)
		if err != nil {
			return EngineChoice{}, err
		}
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
			return EngineChoice{Host: e.Host, Port: e.Port, ContainerID: e.ContainerID}, nil
		}
		p, err := c.ProvisionWithRetry(ctx)
		if err != nil {
			return EngineChoice{}, err
		}
		host := "127.0.0.1"
		if u, err := url.Parse(c.BaseURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		return EngineChoice{Host: host, Port: p.HostHTTPPort, ContainerID: p.ContainerID}, nil
	})
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
		IsLive            bool   `json:"is_live"`
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

// ReportStreamStarted tells the orchestrator a stream started, and logs it
// to "streams" (a failure also to "errors").
func (c *Client) ReportStreamStarted(ctx context.Context, ev StreamStarted) error {
	start := time.Now()
	err := c.do(ctx, http.MethodPost, "/events/stream_started", ev, nil, true)
	log := c.log()
	log.LogStreamEvent(ctx, slogdebug.StreamEvent{Type: "stream_started", StreamID: ev.StreamID(), EngineID: ev.ContainerID, Duration: time.Since(start)},
		slog.String("ace_id", ev.Stream.Key), slog.Bool("reported", err == nil))
	if err != nil {
		log.LogError(ctx, "orchestrator_client", "report_stream_started", err,
			slog.String("stream_id", ev.StreamID()), slog.String("engine_id", ev.ContainerID))
	}
	return err
}

// ReportStreamEnded tells the orchestrator a stream ended, and logs it to
// "streams" (a failure also to "errors"). streamDuration is how long the
// stream ran.
func (c *Client) ReportStreamEnded(ctx context.Context, ev StreamEnded, streamDuration time.Duration) error {
	start := time.Now()
	err := c.do(ctx, http.MethodPost, "/events/stream_ended", ev, nil, true)
	log := c.log()
	log.LogStreamEvent(ctx, slogdebug.StreamEvent{Type: "stream_ended", StreamID: ev.StreamID, EngineID: ev.ContainerID, Duration: streamDuration},
		slog.String("reason", ev.Reason), slog.Duration("report", time.Since(start)), slog.Bool("reported", err == nil))
	if err != nil {
		log.LogError(ctx, "orchestrator_client", "report_stream_ended", err,
			slog.String("stream_id", ev.StreamID), slog.String("engine_id", ev.ContainerID))
	}
	return err
}
