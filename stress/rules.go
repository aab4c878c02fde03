package stress

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/safeerr"
	ev "github.com/proxydebug/debugmode/internal/stressevent"
)

// windowed reports whether an event type is windowed: it describes a
// state over a stretch of time (a rate within a window, the drops since
// the last report), so the cooldown keeps it from Files too. Every other
// event type, the user's included, is per-record.
func windowed(eventType string) bool {
	switch eventType {
	case ev.HighSlowRequestRate, ev.HighProvisioningFailureRate, ev.RecordsDropped:
		return true
	}
	return false
}

// cooldownOf is the cooldown of an event type: Cooldowns' if it has one,
// none for the orchestrator's transitions, Cooldown otherwise.
func (o *Options) cooldownOf(eventType string) time.Duration {
	if d, ok := o.Cooldowns[eventType]; ok {
		return d
	}
	switch eventType {
	case ev.OrchestratorDegraded, ev.OrchestratorRecovered:
		return -1
	}
	return o.Cooldown
}

// slowEventType names the event a slow record of category cat fires.
func slowEventType(cat string) string {
	switch cat {
	case category.Requests:
		return ev.SlowRequest
	case category.EngineSelection:
		return ev.SlowEngineSelection
	}
	return "slow_" + cat
}

// isNone reports whether an error attribute's value holds no error: nil,
// or an empty string.
func isNone(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindAny:
		return v.Any() == nil
	case slog.KindString:
		return v.String() == ""
	}
	return false
}

// errorText is the message of an error attribute's value.
func errorText(v slog.Value) string {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return safeerr.String(err)
		}
	}
	return ""
}

// rateAttrs are the attributes of a rate's event.
func rateAttrs(n int, rate config.Rate) []slog.Attr {
	return []slog.Attr{slog.Int("count", n), slog.Duration("window", rate.Window), slog.Int("threshold", rate.Count)}
}

// slowRecord fires the slow event of a category, and for requests counts
// it towards high_slow_request_rate.
func (s *state) slowRecord(ctx context.Context, o *obs, rule slowRule) {
	e := Event{Type: rule.eventType, Level: slog.LevelWarn}
	took := fmt.Sprintf("took %.2fs (threshold %v)", o.dur.Seconds(), rule.threshold)
	switch o.cat {
	case category.Requests:
		e.Description, e.Attrs = "Request "+took, o.attrs("method", "path", "ace_id", "status_code", "request_id")
	case category.EngineSelection:
		e.Description = "Engine selection " + took
		e.Attrs = o.attrs("operation", "selected_host", "selected_port", "container_id", "error", "engine_count", "request_id")
	default:
		e.Description, e.Attrs = fmt.Sprintf("%s record %q %s", o.cat, o.msg, took), o.attrs("operation", "request_id")
	}
	e.Attrs = append(e.Attrs, slog.Duration("duration", o.dur), slog.Duration("threshold", rule.threshold))
	s.fire(ctx, o.time, e)

	if o.cat != category.Requests {
		return
	}
	s.mu.Lock()
	n := s.slowRequests.add(o.time, s.slowRate.Window)
	s.mu.Unlock()
	if n > s.slowRate.Count {
		s.fire(ctx, o.time, Event{Type: ev.HighSlowRequestRate, Level: slog.LevelWarn,
			Description: fmt.Sprintf("%d slow requests in the last %v", n, s.slowRate.Window), Attrs: rateAttrs(n, s.slowRate)})
	}
}

// provisioningFailure counts a failed provisioning record and fires the
// circuit-breaker and failure-rate events.
func (s *state) provisioningFailure(ctx context.Context, o *obs) {
	if reportsCircuitBreaker(o) {
		s.fire(ctx, o.time, Event{Type: ev.ProvisioningCircuitBreaker, Level: slog.LevelError,
			Description: "Provisioning blocked by the orchestrator's circuit breaker",
			Attrs:       o.attrs("operation", "error", "retry_count", "recovery_eta_seconds", "request_id")})
	}
	s.mu.Lock()
	n := s.provFailures.add(o.time, s.failRate.Window)
	s.mu.Unlock()
	if n > s.failRate.Count {
		s.fire(ctx, o.time, Event{Type: ev.HighProvisioningFailureRate, Level: slog.LevelError,
			Description: fmt.Sprintf("%d provisioning failures in the last %v", n, s.failRate.Window),
			Attrs:       append(rateAttrs(n, s.failRate), o.attrs("operation", "error")...)})
	}
}

// reportsCircuitBreaker tells whether a provisioning failure was the
// orchestrator's circuit breaker: its code (code, blocked_reason_code,
// error_code) says circuit_breaker, or its error message names it.
func reportsCircuitBreaker(o *obs) bool {
	for _, k := range []string{"code", "blocked_reason_code", "error_code"} {
		if v, ok := o.attr(k); ok && v.Kind() == slog.KindString && v.String() == "circuit_breaker" {
			return true
		}
	}
	return containsFold(o.err, "circuit breaker") || containsFold(o.err, "circuit_breaker")
}

// containsFold reports whether s contains the lower-case ASCII substring
// sub, ignoring ASCII case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			a := s[i+j]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if a != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// healthChange is what a health reading changed: the status before it,
// since when the orchestrator was degraded, and whether an event fires.
type healthChange struct {
	prev  string
	since time.Time
	fires bool
}

// followHealth records the orchestrator's status and reports whether it
// entered or left "degraded"; the readings that change nothing (almost
// all) cost no allocation.
func (s *state) followHealth(status string, t time.Time) healthChange {
	if t.IsZero() {
		t = s.opts.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := healthChange{prev: s.health, since: s.degradedAt}
	s.health = status
	if status == "degraded" && c.prev != "degraded" {
		s.degradedAt = t
	}
	c.fires = (status == "degraded") != (c.prev == "degraded")
	return c
}

// healthStatus fires orchestrator_degraded or orchestrator_recovered for a
// reading that entered or left "degraded".
func (s *state) healthStatus(ctx context.Context, o *obs, status string, c healthChange) {
	capacity := []string{"capacity_total", "capacity_used", "capacity_available", "engine_count", "stream_count"}
	if status == "degraded" {
		reason := ""
		if v, ok := o.attr("blocked_reason"); ok {
			reason = v.String()
		}
		attrs := o.attrs(append([]string{"blocked_reason", "blocked_reason_code", "can_provision", "recovery_eta_seconds", "vpn_connected"}, capacity...)...)
		s.fire(ctx, o.time, Event{Type: ev.OrchestratorDegraded, Level: slog.LevelWarn,
			Description: "Orchestrator is degraded: " + reason, Attrs: append(attrs, slog.String("previous_status", c.prev))})
		return
	}
	d := o.time.Sub(c.since)
	s.fire(ctx, o.time, Event{Type: ev.OrchestratorRecovered, Level: slog.LevelInfo,
		Description: fmt.Sprintf("Orchestrator is %s again after %.1fs degraded", status, d.Seconds()),
		Attrs:       append(o.attrs(capacity...), slog.String("status", status), slog.Duration("degraded_for", d))})
}

// reportDrops fires records_dropped with what was dropped since the last
// report.
func (s *state) reportDrops(ctx context.Context, t time.Time) {
	if !s.drops.CompareAndSwap(true, false) || s.opts.Dropped == nil {
		return
	}
	if t.IsZero() {
		t = s.opts.now()
	}
	now := s.opts.Dropped()
	s.mu.Lock()
	var total uint64
	var cats []slog.Attr
	for cat, n := range now {
		if last := s.lastDropped[cat]; n > last {
			total += n - last
			cats = append(cats, slog.Uint64(cat, n-last))
		}
	}
	s.mu.Unlock()
	if total == 0 {
		return
	}
	sortAttrs(cats)
	if s.fire(ctx, t, Event{Type: ev.RecordsDropped, Level: slog.LevelWarn,
		Description: fmt.Sprintf("%d debug records dropped: the queue was full", total),
		Attrs:       []slog.Attr{slog.Uint64("count", total), {Key: "categories", Value: slog.GroupValue(cats...)}}}) {
		// Counted from here on; a suppressed report's drops go into the
		// next report that is emitted.
		s.mu.Lock()
		for cat, n := range now {
			s.lastDropped[cat] = max(s.lastDropped[cat], n)
		}
		s.mu.Unlock()
	}
}

// fire counts e and emits it: a per-record event to Files always and to
// the Console unless its type is cooling down; a windowed event to both
// unless its type is cooling down, and nowhere if it is. It reports
// whether e was sent to Files.
func (s *state) fire(ctx context.Context, t time.Time, e Event) bool {
	isWindowed := windowed(e.Type)
	cd := s.opts.cooldownOf(e.Type)
	s.mu.Lock()
	ts := s.types[e.Type]
	if ts == nil {
		ts = &typeState{}
		s.types[e.Type] = ts
	}
	ts.counts.events++
	if t.Before(ts.until) {
		ts.pending++
		if isWindowed {
			ts.counts.suppressed++
		} else {
			ts.counts.consoleSuppressed++
		}
		s.mu.Unlock()
		if !isWindowed {
			s.emit(ctx, s.files, eventRecord(t, e))
		}
		return !isWindowed
	}
	pending := ts.pending
	ts.pending = 0
	if cd > 0 {
		ts.until = t.Add(cd)
	}
	s.mu.Unlock()

	r := eventRecord(t, e)
	if pending > 0 {
		key := ev.ConsoleSuppressedKey
		if isWindowed {
			key = ev.SuppressedKey
		}
		r.AddAttrs(slog.Int(key, pending))
	}
	s.emit(ctx, s.files, r.Clone())
	s.emit(ctx, s.console, r)
	return true
}

// eventRecord is the record of an event.
func eventRecord(t time.Time, e Event) slog.Record {
	r := slog.NewRecord(t, e.Level, e.Type, 0)
	r.AddAttrs(
		slog.String("event_type", e.Type),
		slog.String("severity", ev.Severity(e.Level)),
		slog.String("description", e.Description),
	)
	r.AddAttrs(e.Attrs...)
	return r
}

// emit hands r to h (nil: nowhere) if h takes its level. A panic in h is
// recovered and returned as an error, so that a broken Console cannot
// keep an event from Files, nor take the host down.
func (s *state) emit(ctx context.Context, h slog.Handler, r slog.Record) (err error) {
	if h == nil || !h.Enabled(ctx, r.Level) {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("stress: the handler of %s panicked: %v", r.Message, p)
		}
	}()
	return h.Handle(ctx, r)
}
