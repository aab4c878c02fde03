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

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/stress"
)

// provision asks the orchestrator for a new AceStream engine, once. A new
// engine drops the cached engine list, so the next selection sees it.
func (c *Client) provision(ctx context.Context) (EngineChoice, error) {
	var out struct {
		ContainerID  string `json:"container_id"`
		HostHTTPPort int    `json:"host_http_port"`
	}
	if err := c.do(ctx, http.MethodPost, "/provision/acestream", struct{}{}, &out, true); err != nil {
		return EngineChoice{}, err
	}
	c.cache.invalidate()
	return EngineChoice{Host: c.host, Port: out.HostHTTPPort, ContainerID: out.ContainerID,
		Attrs: []slog.Attr{slog.Bool("provisioned", true)}}, nil
}

// ProvisionWithRetry asks the orchestrator for a new engine (on the
// orchestrator's host, at the port it gives), retrying refusals after the
// back-off of Options, and logs each step to "provisioning": every failed
// attempt (provision_attempt_failed, with its retry_count), each wait
// (provision_backoff), and the outcome (provision_success or
// provision_failed). It stops early when the orchestrator says it cannot
// retry or ctx is done. Its error is for WriteProvisionError; errors.As
// finds the orchestrator's refusal (*Error) in it.
func (c *Client) ProvisionWithRetry(ctx context.Context) (EngineChoice, error) {
	log := c.log()
	start := time.Now()
	var lastErr error
	attempt := 0
	for attempt < c.opts.MaxAttempts {
		attempt++
		attemptStart := time.Now()
		choice, err := c.provision(ctx)
		if err == nil {
			log.LogProvisioning(ctx, "provision_success", time.Since(start), true, nil, attempt-1)
			return choice, nil
		}
		lastErr = err
		log.LogProvisioning(ctx, "provision_attempt_failed", time.Since(attemptStart), false, err, attempt)
		var oe *Error
		if errors.As(err, &oe) && oe.Blocked && !oe.CanRetry || attempt == c.opts.MaxAttempts || ctx.Err() != nil {
			break
		}
		wait := c.opts.backoff(attempt, err)
		log.With(category.Key, category.Provisioning).LogAttrs(ctx, slog.LevelDebug, "provision_backoff",
			slog.String("operation", "provision_backoff"), slog.Duration("wait", wait), slog.Int("retry_count", attempt))
		if err := c.opts.Sleep(ctx, wait); err != nil {
			lastErr = fmt.Errorf("%w (gave up waiting: %v)", lastErr, err)
			break
		}
	}
	// The attempts were counted one by one: the outcome is a summary.
	log.LogProvisioning(ctx, "provision_failed", time.Since(start), false, lastErr, attempt, slog.Bool(stress.SummaryKey, true))
	retryAfter := c.opts.RetryBackoff
	if eta := recoveryETA(lastErr); eta > 0 {
		retryAfter = eta
	}
	return EngineChoice{}, &noEngineError{err: lastErr, retryAfter: retryAfter}
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

// backoff is the wait before retry number retry (1 for the first retry)
// after err: half the recovery ETA, then the ETA; without one RetryBackoff,
// doubling up to MaxRetryBackoff.
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

// noEngineError is a failure to get an engine: provisioning failed after
// its retries. retryAfter is when the client may try again: the
// orchestrator's recovery ETA, or Options.RetryBackoff.
type noEngineError struct {
	err        error
	retryAfter time.Duration
}

func (e *noEngineError) Error() string { return "no engine available: " + e.err.Error() }
func (e *noEngineError) Unwrap() error { return e.err }

// WriteProvisionError answers a client whose stream could not get an
// engine (the error of SelectBestEngine or ProvisionWithRetry): 503 with a
// Retry-After in whole seconds, the orchestrator's recovery ETA or the
// first back-off when provisioning failed, else 30.
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
