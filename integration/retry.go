package integration

import (
	"context"
	"errors"
	"time"
)

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

// retryAfter is when a client may try again after provisioning failed
// with err: the orchestrator's recovery ETA, or the first back-off.
func (p RetryPolicy) retryAfter(err error) time.Duration {
	var pe *ProvisionError
	if errors.As(err, &pe) && pe.RecoveryETASeconds > 0 {
		return time.Duration(pe.RecoveryETASeconds) * time.Second
	}
	return p.withDefaults().DefaultBackoff
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
