package integration

import (
	"context"
	"time"
)

// What the tests of package integration_test reach that is not exported.

// Poll polls once, as the monitor does on its interval, and returns the
// reading it stored.
func (m *HealthMonitor) Poll(ctx context.Context) HealthReading {
	m.poll(ctx)
	return *m.Last()
}

// BaseURL is the orchestrator's address, as New keeps it.
func (c *Client) BaseURL() string { return c.base }

// Classify is the reason of a stream ended by err.
func Classify(err error) string {
	reason, _ := classify(err)
	return reason
}

// NoEngineError is ProvisionWithRetry's error.
func NoEngineError(err error, retryAfter time.Duration) error {
	return &noEngineError{err: err, retryAfter: retryAfter}
}

// Backoff is the wait before retry number retry after err.
func Backoff(o Options, retry int, err error) time.Duration {
	return o.withDefaults().backoff(retry, err)
}

// SetNow sets the clock the Client reads how long the orchestrator has not
// been reached with.
func (c *Client) SetNow(now func() time.Time) { c.now = now }

// ErrorClass is the error_class of a call that did not reach the orchestrator.
func ErrorClass(err error) string { return errorClass(err) }
