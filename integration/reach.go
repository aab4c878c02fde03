package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/slogdebug"
)

// The Client's typed lines that slogdebug's helpers do not have: an
// orchestrator that a call did not reach, and a provisioning back-off. Each
// is one record of a fixed shape, in its category, at Debug.

// reachability follows whether the orchestrator answers: how many calls in
// a row have not reached it, since when.
type reachability struct {
	failures  atomic.Int64 // calls in a row that did not reach it; 0: it answers
	mu        sync.Mutex
	downSince time.Time // the first of them
}

// answered ends a run of failures: a call got an answer (of any status). It
// returns the run it ended, to one caller only: how long the orchestrator
// had not been reached (by now) and the calls that had not reached it; 0
// and 0 when there was none.
func (r *reachability) answered(now func() time.Time) (down time.Duration, failures int64) {
	if r.failures.Load() == 0 {
		return 0, 0 // the common case: one atomic load
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if failures = r.failures.Swap(0); failures > 0 {
		down = max(now().Sub(r.downSince), 0)
	}
	r.downSince = time.Time{}
	return down, failures
}

// failed counts a call that did not reach the orchestrator at now, and
// returns how long it has not been reached and the calls in a row so far.
func (r *reachability) failed(now time.Time) (down time.Duration, failures int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failures.Load() == 0 {
		r.downSince = now
	}
	return max(now.Sub(r.downSince), 0), r.failures.Add(1)
}

// unreached reports whether err, a call's, means the orchestrator was not
// reached (no answer at all), rather than the caller giving up first.
func unreached(callerCtx context.Context, err error) bool {
	return err != nil && callerCtx.Err() == nil
}

// errorClass names why a call did not reach the orchestrator.
func errorClass(err error) string {
	var dns *net.DNSError
	var certInvalid x509.CertificateInvalidError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var record tls.RecordHeaderError
	var cert *tls.CertificateVerificationError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return "dns_error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &cert) || errors.As(err, &record) || errors.As(err, &certInvalid) ||
		errors.As(err, &unknownAuthority) || errors.As(err, &hostname):
		return "tls_error"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "host_unreachable"
	}
	switch msg := strings.ToLower(err.Error()); { // an error that lost its chain, or a system's own words
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "actively refused"):
		return "connection_refused"
	case strings.Contains(msg, "no such host"):
		return "dns_error"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return "tls_error"
	case strings.Contains(msg, "connection reset") || strings.Contains(msg, "forcibly closed"):
		return "connection_reset"
	case strings.Contains(msg, "unreachable"):
		return "host_unreachable"
	}
	return "network_error"
}

// logUnreachable writes an orchestrator_health reading for a call that did
// not reach the orchestrator: status "unreachable", the call's method and
// URL (redacted), error_class, the error, unreachable_for (since the first
// call in a row that failed; 0 for that one) and failures (the calls in a
// row, this one included).
func logUnreachable(ctx context.Context, log *slogdebug.Logger, method, url string, err error, down time.Duration, failures int64) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL is the line's, redacted
	}
	log.LogAttrs(ctx, slog.LevelDebug, "orchestrator_health", slog.String(category.Key, category.OrchestratorHealth),
		slog.String("status", "unreachable"), slog.String("method", method), slog.String("url", redact.Default().RedactText(url)),
		slog.String("error_class", errorClass(err)), slog.Any("error", err), slog.Duration("unreachable_for", down),
		slog.Int64("failures", failures))
}

// logReachable writes an orchestrator_health reading for the call that
// reached the orchestrator after calls that did not: status "reachable",
// the call's method and URL (redacted), the status_code it answered,
// unreachable_for (how long it had not been reached) and failures (the
// calls that had not reached it). Stress detection reads it as the end of
// the outage (orchestrator_recovered), as it reads a healthy status.
func logReachable(ctx context.Context, log *slogdebug.Logger, method, url string, status int, down time.Duration, failures int64) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	log.LogAttrs(ctx, slog.LevelDebug, "orchestrator_health", slog.String(category.Key, category.OrchestratorHealth),
		slog.String("status", "reachable"), slog.String("method", method), slog.String("url", redact.Default().RedactText(url)),
		slog.Int("status_code", status), slog.Duration("unreachable_for", down), slog.Int64("failures", failures))
}

// backoff is a wait of ProvisionWithRetry before its next attempt.
type backoff struct {
	attempt, maxAttempts int           // the attempt that failed (from 1), and the most there will be
	wait                 time.Duration // before the next
	err                  error         // why the attempt failed
	decision             decision      // why it retries
}

// logBackoff writes a provisioning line for a wait between attempts:
// operation provision_backoff, attempt and next_attempt, max_attempts,
// retry_count (the attempt, as before), wait, wait_from (recovery_eta: the
// orchestrator's estimate; backoff: Options' back-off), reason (the
// orchestrator's code for a refusal, http_<status> for another answer, the
// error class when it was not reached), detailed_reason (its words) and
// recovery_eta_seconds when it gave one, decision (retry) and
// decision_reason (why the wait fits the request's budget). It has no
// success and no error:
// the attempt's own line has them, and stress detection counts that one.
func logBackoff(ctx context.Context, log *slogdebug.Logger, b backoff) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	reason, detail, eta := backoffReason(b.err)
	from := "backoff"
	if eta > 0 {
		from = "recovery_eta"
	}
	var buf [13]slog.Attr
	attrs := append(buf[:0], slog.String(category.Key, category.Provisioning), slog.String("operation", "provision_backoff"),
		slog.Int("attempt", b.attempt), slog.Int("next_attempt", b.attempt+1), slog.Int("max_attempts", b.maxAttempts),
		slog.Int("retry_count", b.attempt), slog.Duration("wait", b.wait), slog.String("wait_from", from),
		slog.String("reason", reason), slog.String("detailed_reason", detail))
	if eta > 0 {
		attrs = append(attrs, slog.Int("recovery_eta_seconds", eta))
	}
	attrs = append(attrs, slog.String("decision", b.decision.what), slog.String("decision_reason", b.decision.reason))
	log.LogAttrs(ctx, slog.LevelDebug, "provisioning", attrs...)
}

// backoffReason reads why an attempt failed: a code, words, and the
// orchestrator's recovery ETA in seconds (0: none).
func backoffReason(err error) (reason, detail string, eta int) {
	var oe *Error
	switch {
	case errors.As(err, &oe) && oe.Blocked:
		reason = oe.Code
		if reason == "" {
			reason = "provisioning_blocked"
		}
		return reason, oe.Message, oe.RecoveryETASeconds
	case errors.As(err, &oe):
		return "http_" + strconv.Itoa(oe.StatusCode), oe.Error(), 0
	case err == nil:
		return "", "", 0
	}
	var ue *neturl.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL (unredacted) is the call's, not the reason
	}
	return errorClass(err), err.Error(), 0
}
