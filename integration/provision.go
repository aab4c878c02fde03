package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/stressevent"
)

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

// Provision asks the orchestrator for a new AceStream engine, once. A new
// engine drops the cached engine list (WithEngineCache), so the next
// selection sees it.
func (c *Client) Provision(ctx context.Context) (*Provisioned, error) {
	var out Provisioned
	if err := c.do(ctx, http.MethodPost, "/provision/acestream", struct{}{}, &out, true); err != nil {
		return nil, err
	}
	c.engines.invalidate()
	return &out, nil
}

// ProvisionWithRetry provisions, retrying refusals after the policy's
// back-off, and logs each step to "provisioning": every failed attempt
// (provision_attempt_failed, with its retry_count), each wait
// (provision_backoff), and the outcome (provision_success or
// provision_failed). It stops early when the orchestrator says it cannot
// retry or ctx is done.
func (c *Client) ProvisionWithRetry(ctx context.Context) (*Provisioned, error) {
	policy := c.retry
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
	// The attempts were counted one by one: the outcome is a summary.
	log.LogProvisioning(ctx, "provision_failed", time.Since(start), false, lastErr, attempt, slog.Bool(stressevent.SummaryKey, true))
	return nil, &NoEngineError{Err: lastErr, RetryAfter: policy.retryAfter(lastErr)}
}

// NoEngineError is a failure to get an engine: provisioning failed after
// its retries. Err is the last attempt's error (a *ProvisionError when the
// orchestrator refused; errors.As finds it); RetryAfter is when the client
// may try again: the orchestrator's recovery ETA, or the retry policy's
// DefaultBackoff. WriteProvisionError answers with it.
type NoEngineError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *NoEngineError) Error() string { return "no engine available: " + e.Err.Error() }

// Unwrap returns the last attempt's error.
func (e *NoEngineError) Unwrap() error { return e.Err }

// DefaultRetryAfter is the Retry-After WriteProvisionError sends for an
// error that does not say when to retry.
const DefaultRetryAfter = 30 * time.Second

// WriteProvisionError answers a client whose stream could not get an
// engine (the error of SelectBestEngine or ProvisionWithRetry): 503 with a
// Retry-After in whole seconds, from a *NoEngineError or a
// *ProvisionError in err's chain, else DefaultRetryAfter.
func WriteProvisionError(w http.ResponseWriter, err error) {
	after := DefaultRetryAfter
	var ne *NoEngineError
	var pe *ProvisionError
	switch {
	case errors.As(err, &ne) && ne.RetryAfter > 0:
		after = ne.RetryAfter
	case errors.As(err, &pe) && pe.RecoveryETASeconds > 0:
		after = time.Duration(pe.RecoveryETASeconds) * time.Second
	}
	msg := "no engine available"
	if err != nil {
		msg = err.Error()
		if ne == nil {
			msg = "no engine available: " + msg
		}
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((after+time.Second-1)/time.Second)))
	http.Error(w, msg, http.StatusServiceUnavailable)
}
