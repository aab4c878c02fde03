package integration_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/slogdebug"
)

// provisioningLines are the provisioning lines of one operation.
func (e *env) provisioningLines(t *testing.T, operation string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range e.lines(t, "provisioning") {
		if m["operation"] == operation {
			out = append(out, m)
		}
	}
	return out
}

// stressEvents are the stress lines of one type.
func (e *env) stressEvents(t *testing.T, typ string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range e.lines(t, "stress") {
		if m["event_type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// TestFailFastWhenTheETAIsBeyondTheBudget: the orchestrator says provisioning
// is blocked for 120s, longer than the request's 10s budget (the default
// Options.Patience): the client has its 503 with Retry-After: 120 at once,
// no retry waited for, and the provisioning and stress lines say why.
func TestFailFastWhenTheETAIsBeyondTheBudget(t *testing.T) {
	e := newEnv(t, slogdebug.Config{StressCooldown: -1})
	e.orch.SetCircuitBreaker(true, 120)
	resp, _ := e.get(t, "/ace/getstream?id=blocked", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "120", resp.Header.Get("Retry-After"))
	assert.Empty(t, e.waits.all(), "Sleep never called: no retry was waited for")

	attempts := e.provisioningLines(t, "provision_attempt_failed")
	require.Len(t, attempts, 1, "one attempt")
	assert.Equal(t, "fail_fast", attempts[0]["decision"])
	assert.Equal(t, "eta 120s beyond the request's 10s budget", attempts[0]["decision_reason"])
	assert.Empty(t, e.provisioningLines(t, "provision_backoff"))
	failed := e.provisioningLines(t, "provision_failed")
	require.Len(t, failed, 1)
	assert.Equal(t, "fail_fast", failed[0]["decision"])
	assert.Equal(t, "eta 120s beyond the request's 10s budget", failed[0]["decision_reason"])
	assert.Equal(t, 120000.0, failed[0]["retry_after_ms"])

	assert.Equal(t, 120.0, attempts[0]["recovery_eta_seconds"])
	events := e.stressEvents(t, stressevent.ProvisioningCircuitBreaker)
	require.Len(t, events, 1)
	assert.Equal(t, 120.0, events[0]["recovery_eta_seconds"])
	assert.Equal(t, "fail_fast", events[0]["decision"])
	assert.Equal(t, "eta 120s beyond the request's 10s budget", events[0]["decision_reason"])
}

// TestRetryWhenTheETAFitsTheBudget: blocked for 1s, well within the budget:
// the client waits (half the ETA first, as the proxy always did) and gets
// its stream.
func TestRetryWhenTheETAFitsTheBudget(t *testing.T) {
	e := newEnv(t, slogdebug.Config{StressCooldown: -1})
	e.orch.SetCircuitBreaker(true, 1)
	e.waits.then = func(context.Context) error {
		e.orch.SetCircuitBreaker(false, 0) // recovered while the client waited
		return nil
	}
	resp, body := e.get(t, "/ace/getstream?id=soon", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotEmpty(t, body)
	assert.Equal(t, []time.Duration{500 * time.Millisecond}, e.waits.all(), "one wait: half the 1s ETA")

	attempts := e.provisioningLines(t, "provision_attempt_failed")
	require.Len(t, attempts, 1)
	assert.Equal(t, "retry", attempts[0]["decision"])
	assert.Equal(t, "eta 1s within the request's 10s budget", attempts[0]["decision_reason"])
	backoffs := e.provisioningLines(t, "provision_backoff")
	require.Len(t, backoffs, 1)
	assert.Equal(t, "retry", backoffs[0]["decision"])
	assert.Equal(t, 500.0, backoffs[0]["wait_ms"])
	assert.Len(t, e.provisioningLines(t, "provision_success"), 1)
	assert.Empty(t, e.provisioningLines(t, "provision_failed"))
	events := e.stressEvents(t, stressevent.ProvisioningCircuitBreaker)
	require.Len(t, events, 1, "the blocked attempt")
	assert.Equal(t, "retry", events[0]["decision"])
}

// TestNoETAFailsFastWhenTheBackoffIsBeyondTheBudget: an orchestrator that
// gives no ETA (an older one, here with the VPN down) leaves the back-off
// (30s by default) to decide: beyond 10s, the 503 comes at once, with the
// back-off as its Retry-After.
func TestNoETAFailsFastWhenTheBackoffIsBeyondTheBudget(t *testing.T) {
	e := newEnv(t, slogdebug.Config{})
	e.orch.SetLegacyErrors(true)
	e.orch.SetVPNDown(true)
	resp, _ := e.get(t, "/ace/getstream?id=novpn", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "30", resp.Header.Get("Retry-After"))
	assert.Empty(t, e.waits.all())
	attempts := e.provisioningLines(t, "provision_attempt_failed")
	require.Len(t, attempts, 1)
	assert.Equal(t, "fail_fast", attempts[0]["decision"])
	assert.Equal(t, "back-off 30s beyond the request's 10s budget", attempts[0]["decision_reason"])
}

// TestTheBudgetShrinksWithTheWaits: on a clock the waits move, a 6s ETA
// fits the 10s budget twice (3s, then 6s) and then no longer (1s left).
func TestTheBudgetShrinksWithTheWaits(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, slogdebug.Config{}, func(o *integration.Options) { o.MaxAttempts = 5 })
	e.client.SetNow(clock)
	e.waits.then = func(context.Context) error {
		w := e.waits.all()
		mu.Lock()
		now = now.Add(w[len(w)-1])
		mu.Unlock()
		return nil
	}
	e.orch.SetCircuitBreaker(true, 6)
	_, err := e.client.ProvisionWithRetry(context.Background())
	require.Error(t, err)
	assert.Equal(t, []time.Duration{3 * time.Second, 6 * time.Second}, e.waits.all())

	var decisions, reasons []any
	for _, m := range e.provisioningLines(t, "provision_attempt_failed") {
		decisions, reasons = append(decisions, m["decision"]), append(reasons, m["decision_reason"])
	}
	assert.Equal(t, []any{"retry", "retry", "fail_fast"}, decisions)
	assert.Equal(t, []any{"eta 6s within the request's 10s budget", "eta 6s within the 7s left of the request's 10s budget",
		"eta 6s beyond the 1s left of the request's 10s budget"}, reasons)

	w := httptest.NewRecorder()
	integration.WriteProvisionError(w, err)
	assert.Equal(t, "6", w.Header().Get("Retry-After"), "the ETA")
}

// TestTheContextDeadlineIsTheBudget: a request whose context has a deadline
// waits as long as that deadline allows, whatever Options.Patience says.
func TestTheContextDeadlineIsTheBudget(t *testing.T) {
	t.Run("far enough: it retries", func(t *testing.T) {
		e := newEnv(t, slogdebug.Config{})
		e.orch.SetCircuitBreaker(true, 120)
		e.waits.then = func(context.Context) error { e.orch.SetCircuitBreaker(false, 0); return nil }
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		_, err := e.client.ProvisionWithRetry(ctx)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{60 * time.Second}, e.waits.all())
		attempts := e.provisioningLines(t, "provision_attempt_failed")
		require.Len(t, attempts, 1)
		assert.Regexp(t, `^eta 120s within the \d+s left before the request's deadline$`, attempts[0]["decision_reason"])
	})
	t.Run("too near: it fails fast", func(t *testing.T) {
		e := newEnv(t, slogdebug.Config{}, patience(time.Hour))
		e.orch.SetCircuitBreaker(true, 120)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := e.client.ProvisionWithRetry(ctx)
		require.Error(t, err)
		assert.Empty(t, e.waits.all())
		attempts := e.provisioningLines(t, "provision_attempt_failed")
		require.Len(t, attempts, 1)
		assert.Equal(t, "fail_fast", attempts[0]["decision"])
		assert.Regexp(t, `^eta 120s beyond the \d+s left before the request's deadline$`, attempts[0]["decision_reason"])
	})
}

// TestGiveUpSaysWhy: the attempts spent and a refusal that cannot be
// retried are decisions too.
func TestGiveUpSaysWhy(t *testing.T) {
	e := newEnv(t, slogdebug.Config{}, func(o *integration.Options) { o.MaxAttempts = 2 })
	e.orch.SetCircuitBreaker(true, 2)
	_, err := e.client.ProvisionWithRetry(context.Background())
	require.Error(t, err)
	failed := e.provisioningLines(t, "provision_failed")
	require.Len(t, failed, 1)
	assert.Equal(t, "give_up", failed[0]["decision"])
	assert.Equal(t, "2 attempts made (Options.MaxAttempts)", failed[0]["decision_reason"])
}

// TestAFractionalETAIsRoundedUp: an ETA of 0.4s is 1s, never 0 (no ETA).
func TestAFractionalETAIsRoundedUp(t *testing.T) {
	orch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"detail":{"error":"provisioning_blocked","code":"max_capacity","message":"full","recovery_eta_seconds":0.4,"can_retry":false}}`)
	}))
	defer orch.Close()
	c, err := integration.New(orch.URL, nil, integration.Options{HTTPClient: orch.Client()})
	require.NoError(t, err)
	_, err = c.ProvisionWithRetry(context.Background())
	var oe *integration.Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, 1, oe.RecoveryETASeconds)
	w := httptest.NewRecorder()
	integration.WriteProvisionError(w, err)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
}
