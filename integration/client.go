package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Client talks to the engine orchestrator and logs what it does: engine
// selection, provisioning (with retry), health, stream events, and every
// call (orchestrator_calls). Make it with New; it is safe for concurrent
// use and does not change once made.
type Client struct {
	base   string // without a trailing slash
	apiKey string
	logger *slogdebug.Logger // nil: slogdebug.Default() at each call
	http   *http.Client
	retry  RetryPolicy

	engines    engineCache // GET /engines, cached for WithEngineCache
	maxStreams int         // WithMaxStreamsPerEngine; 0: no limit
}

// Option configures a Client made by New.
type Option func(*Client)

// WithAPIKey sends key as a Bearer token to the endpoints that need it
// (provisioning, stream events). It is never logged.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithHTTPClient makes the calls with hc (its timeout, its transport)
// instead of a client with a 30s timeout over http.DefaultTransport. Its
// transport is wrapped by Transport, as the default one is: request IDs
// forwarded, every call logged; hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			wrapped := *hc
			c.http = &wrapped
		}
	}
}

// WithRetryPolicy sets how provisioning is retried; its zero fields take
// the defaults (see RetryPolicy).
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithEngineCache makes Engines and SelectBestEngine reuse an engine list
// fetched less than ttl ago (the proxy selects an engine per stream; under
// load a couple of seconds saves a call per request), and lets callers that
// miss together share one call. Zero, the default, fetches every time.
func WithEngineCache(ttl time.Duration) Option {
	return func(c *Client) { c.engines.ttl = ttl }
}

// WithMaxStreamsPerEngine makes SelectBestEngine pass over engines that
// already serve n streams, and provision a new engine when all do. Zero, the
// default, sets no limit.
func WithMaxStreamsPerEngine(n int) Option {
	return func(c *Client) { c.maxStreams = n }
}

// DefaultTimeout bounds each call of a Client made without WithHTTPClient.
const DefaultTimeout = 30 * time.Second

// New returns a Client of the orchestrator at baseURL (such as
// http://orchestrator:8000) that logs through logger; a nil logger means
// slogdebug.Default() at the time of each call. It fails on a base URL
// that is not an absolute http or https URL.
func New(baseURL string, logger *slogdebug.Logger, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("integration: orchestrator URL %q: want an http or https URL such as http://orchestrator:8000", redact.Default().RedactText(baseURL))
	}
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), logger: logger}
	c.engines.now = time.Now
	for _, opt := range opts {
		opt(c)
	}
	if c.engines.ttl < 0 {
		return nil, fmt.Errorf("integration: WithEngineCache(%v): want 0 (no cache) or a positive duration such as 2s", c.engines.ttl)
	}
	if c.maxStreams < 0 {
		return nil, fmt.Errorf("integration: WithMaxStreamsPerEngine(%d): want 0 (no limit) or a positive number of streams", c.maxStreams)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	c.http.Transport = Transport(c.http.Transport, logger)
	c.retry = c.retry.withDefaults()
	return c, nil
}

// log returns the logger the Client logs through.
func (c *Client) log() *slogdebug.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slogdebug.Default()
}

// BaseURL returns the orchestrator's address, as New was given it
// (without a trailing slash).
func (c *Client) BaseURL() string { return c.base }

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
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("orchestrator %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth && c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
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
