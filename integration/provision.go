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
	"github.com/proxydebug/debugmode/slogdebug"
)

// ProvisionWithRetry asks the orchestrator for a new engine, logging each
// step to "provisioning". After a failed attempt it retries only while a
// retry can still succeed within the request's budget (ctx's deadline, else
// Options.Patience from now): it waits for the orchestrator's recovery ETA
// (half of it first, as the proxy always did) when that ETA is within the
// budget, or for Options' back-off when there is no ETA and the back-off
// fits; otherwise it fails at once (decision fail_fast), and the error's
// Retry-After is the ETA. It also stops when the orchestrator says a retry
// cannot help, after Options.MaxAttempts, or when ctx is done (give_up).
// Each attempt's line, the back-off's and the summary name the decision
// and why (decision, decision_reason); the cause of a failure goes to
// "errors" too. Its error is for WriteProvisionError.
func (c *Client) ProvisionWithRetry(ctx context.Context) (EngineChoice, error) {
	log := c.log()
	start := time.Now()
	b := c.budgetOf(ctx)
	var lastErr error
	var d decision
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
		d = c.decide(ctx, attempt, err, b)
		log.LogProvisioning(ctx, "provision_attempt_failed", time.Since(attemptStart), false, err, attempt, d.attrs()...)
		if d.what != decisionRetry {
			break
		}
		logBackoff(ctx, log, backoff{attempt: attempt, maxAttempts: c.opts.MaxAttempts, wait: d.wait, err: err, decision: d})
		if err := c.opts.Sleep(ctx, d.wait); err != nil {
			lastErr = fmt.Errorf("%w (gave up waiting: %v)", lastErr, err)
			d = decision{what: decisionGiveUp, reason: "the request ended while it waited to retry", eta: d.eta, retryAfter: d.retryAfter}
			break
		}
	}
	// The attempts were counted one by one: the outcome is a summary.
	log.LogProvisioning(ctx, "provision_failed", time.Since(start), false, lastErr, attempt,
		append(d.attrs(), slog.Duration("retry_after", d.retryAfter), slog.Bool(stressevent.SummaryKey, true))...)
	return EngineChoice{}, c.noEngine(ctx, "provision", lastErr, d.retryAfter, d.attrs()...)
}

// The decisions ProvisionWithRetry takes after a failed attempt, as its
// lines name them ("decision").
const (
	decisionRetry    = "retry"     // wait (for the ETA, or the back-off), then try again
	decisionFailFast = "fail_fast" // no retry could succeed within the request's budget: answer now
	decisionGiveUp   = "give_up"   // no retry is left: attempts spent, a refusal that cannot be retried, or the request gone
)

// decision is what follows a failed provisioning attempt, and why.
type decision struct {
	what, reason string
	eta          time.Duration // the orchestrator's recovery ETA (0: none)
	wait         time.Duration // before the next attempt (retry)
	retryAfter   time.Duration // what the client is told when no retry follows
}

// attrs are the decision's fields on a provisioning line: decision,
// decision_reason, and recovery_eta_seconds when the orchestrator gave one.
func (d decision) attrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("decision", d.what), slog.String("decision_reason", d.reason)}
	if d.eta > 0 {
		attrs = append(attrs, slog.Int("recovery_eta_seconds", int(d.eta/time.Second)))
	}
	return attrs
}

// budget is how long the request of a provisioning may wait for an engine.
type budget struct {
	deadline time.Time     // zero: no limit but ctx's cancellation (Options.Patience negative)
	fromCtx  bool          // the deadline is ctx's own
	patience time.Duration // Options.Patience, when the deadline is from it
}

// budgetOf is the budget of a provisioning starting now: ctx's deadline when
// it has one, else Options.Patience from now.
func (c *Client) budgetOf(ctx context.Context) budget {
	if dl, ok := ctx.Deadline(); ok {
		return budget{deadline: dl, fromCtx: true}
	}
	if c.opts.Patience < 0 {
		return budget{}
	}
	return budget{deadline: c.now().Add(c.opts.Patience), patience: c.opts.Patience}
}

// describe says what is left of the budget when left remains, as a decision's
// reason does: "the request's 10s budget", "the 4.5s left of the request's
// 10s budget", "the 3s left before the request's deadline".
func (b budget) describe(left time.Duration) string {
	left = max(left, 0)
	switch {
	case b.fromCtx:
		return "the " + seconds(left) + " left before the request's deadline"
	case roundWait(left) >= roundWait(b.patience):
		return "the request's " + seconds(b.patience) + " budget"
	default:
		return "the " + seconds(left) + " left of the request's " + seconds(b.patience) + " budget"
	}
}

// roundWait rounds a wait for reading: to the second from 10s up, else to
// the tenth.
func roundWait(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// seconds writes a wait, rounded (roundWait), in seconds: "120s", "4.5s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(roundWait(d).Seconds(), 'f', -1, 64) + "s"
}

// decide takes the decision after attempt (from 1) failed with err.
func (c *Client) decide(ctx context.Context, attempt int, err error, b budget) decision {
	eta := recoveryETA(err)
	d := decision{eta: eta, retryAfter: cmp.Or(eta, c.opts.RetryBackoff)}
	var oe *Error
	switch {
	case ctx.Err() != nil:
		d.what, d.reason = decisionGiveUp, "the request ended ("+ctx.Err().Error()+")"
		return d
	case errors.As(err, &oe) && oe.Blocked && !oe.CanRetry:
		d.what, d.reason = decisionGiveUp, "the orchestrator says a retry cannot help (can_retry false)"
		return d
	case attempt >= c.opts.MaxAttempts:
		d.what, d.reason = decisionGiveUp, fmt.Sprintf("%d attempts made (Options.MaxAttempts)", attempt)
		return d
	}
	d.wait = c.opts.backoff(attempt, err)
	// What must fit: the ETA (a retry before it finds provisioning blocked
	// still), or without one the back-off.
	need, what := d.wait, "back-off"
	if eta > 0 {
		need, what = eta, "eta"
	}
	if b.deadline.IsZero() {
		d.what, d.reason = decisionRetry, what+" "+seconds(need)+", no budget (Options.Patience negative)"
		return d
	}
	left := b.deadline.Sub(c.now())
	if need > left {
		d.what, d.reason = decisionFailFast, what+" "+seconds(need)+" beyond "+b.describe(left)
		d.retryAfter, d.wait = need, 0
		return d
	}
	d.what, d.reason = decisionRetry, what+" "+seconds(need)+" within "+b.describe(left)
	return d
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

// noEngineError is a selection that found no engine: provisioning that
// failed after its retries, or an engine list that could not be had.
type noEngineError struct {
	err        error
	retryAfter time.Duration
	logged     bool // its cause is in "errors" already, with the request's IDs
}

func (e *noEngineError) Error() string { return "no engine available: " + e.err.Error() }
func (e *noEngineError) Unwrap() error { return e.err }

// noEngine logs err, why the request of ctx has no engine, to "errors"
// (component orchestrator_client, operation op, with attrs) and returns it
// as a noEngineError for WriteProvisionError.
func (c *Client) noEngine(ctx context.Context, op string, err error, retryAfter time.Duration, attrs ...slog.Attr) error {
	c.log().LogError(ctx, "orchestrator_client", op, err, append(attrs, slog.Duration("retry_after", retryAfter))...)
	return &noEngineError{err: err, retryAfter: retryAfter, logged: true}
}

// WriteProvisionError answers 503 when a stream could not get an engine, with
// Retry-After (the orchestrator's recovery ETA, the back-off, or 30s, in
// whole seconds rounded up) and a body a client can act on: "no engine
// available, retry in 30 s (request ID 4bf92f3577b34da6)", the ID being the
// X-Request-ID that Middleware set on w. The body never holds the cause (an
// address, an error chain, a path): the Client's errors wrote theirs to
// "errors" with the request's IDs; another error is written there now, by
// slogdebug.Default(), with the request ID.
func WriteProvisionError(w http.ResponseWriter, err error) {
	after := 30 * time.Second
	var ne *noEngineError
	if errors.As(err, &ne) {
		after = ne.retryAfter
	} else if err != nil {
		after = cmp.Or(recoveryETA(err), after)
	}
	secs := strconv.Itoa(int((after + time.Second - 1) / time.Second))
	id := headerValue(w.Header(), keyRequestID)
	if err != nil && (ne == nil || !ne.logged) {
		var attrs []slog.Attr
		if id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
		slogdebug.Default().LogError(context.Background(), "integration", "write_provision_error", err,
			append(attrs, slog.Duration("retry_after", after))...)
	}
	msg := "no engine available, retry in " + secs + " s"
	if id != "" {
		msg += " (request ID " + id + ")"
	}
	w.Header().Set("Retry-After", secs)
	http.Error(w, msg, http.StatusServiceUnavailable)
}
