package integration

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/proxydebug/debugmode/internal/stressevent"
)

// ProvisionWithRetry asks the orchestrator for a new engine, retrying with
// Options' back-off until it says it cannot retry or ctx is done, logging each
// step to "provisioning". Its error is for WriteProvisionError.
func (c *Client) ProvisionWithRetry(ctx context.Context) (EngineChoice, error) {
	log := c.log()
	start := time.Now()
	var lastErr error
	attempt := 1
	for ; ; attempt++ { // until a break: MaxAttempts is at least 1
		attemptStart := time.Now()
		var out struct {
			ContainerID  string `json:"container_id"`
			HostHTTPPort int    `json:"host_http_port"`
		}
		err := c.do(ctx, http.MethodPost, "/provision/acestream", struct{}{}, &out, true)
		if err == nil {
			c.cache.invalidate() // the next selection sees the new engine
			log.LogProvisioning(ctx, "provision_success", time.Since(start), true, nil, attempt-1)
			return EngineChoice{Host: c.host, Port: out.HostHTTPPort, ContainerID: out.ContainerID,
				Attrs: []slog.Attr{slog.Bool("provisioned", true)}}, nil
		}
		lastErr = err
		log.LogProvisioning(ctx, "provision_attempt_failed", time.Since(attemptStart), false, err, attempt)
		var oe *Error
		if errors.As(err, &oe) && oe.Blocked && !oe.CanRetry || attempt == c.opts.MaxAttempts || ctx.Err() != nil {
			break
		}
		wait := c.opts.backoff(attempt, err)
		logBackoff(ctx, log, backoff{attempt: attempt, maxAttempts: c.opts.MaxAttempts, wait: wait, err: err})
		if err := c.opts.Sleep(ctx, wait); err != nil {
			lastErr = fmt.Errorf("%w (gave up waiting: %v)", lastErr, err)
			break
		}
	}
	// The attempts were counted one by one: the outcome is a summary.
	log.LogProvisioning(ctx, "provision_failed", time.Since(start), false, lastErr, attempt, slog.Bool(stressevent.SummaryKey, true))
	return EngineChoice{}, &noEngineError{err: lastErr, retryAfter: cmp.Or(recoveryETA(lastErr), c.opts.RetryBackoff)}
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

// recoveryETA is the orchestrator's recovery ETA in err's chain, or 0.
func recoveryETA(err error) time.Duration {
	var oe *Error
	if errors.As(err, &oe) && oe.RecoveryETASeconds > 0 {
		return time.Duration(oe.RecoveryETASeconds) * time.Second
	}
	return 0
}

// backoff is the wait before retry (from 1): half the recovery ETA, then the
// ETA; without one RetryBackoff, doubling up to MaxRetryBackoff.
func (o Options) backoff(retry int, err error) time.Duration {
	if eta := recoveryETA(err); eta > 0 {
		if retry == 1 {
			return eta / 2
		}
		return eta
	}
	d := o.RetryBackoff
	for i := 1; i < retry && d < o.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxRetryBackoff)
}

// noEngineError is provisioning that failed after its retries.
type noEngineError struct {
	err        error
	retryAfter time.Duration
}

func (e *noEngineError) Error() string { return "no engine available: " + e.err.Error() }
func (e *noEngineError) Unwrap() error { return e.err }

// WriteProvisionError answers 503 with Retry-After (the recovery ETA, the first
// back-off, or 30s) when a stream could not get an engine.
func WriteProvisionError(w http.ResponseWriter, err error) {
	after, msg := 30*time.Second, "no engine available"
	var ne *noEngineError
	if errors.As(err, &ne) {
		after, msg = ne.retryAfter, err.Error()
	} else if err != nil {
		after, msg = cmp.Or(recoveryETA(err), after), msg+": "+err.Error()
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((after+time.Second-1)/time.Second)))
	http.Error(w, msg, http.StatusServiceUnavailable)
}
