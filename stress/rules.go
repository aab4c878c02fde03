package stress

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/safeerr"
	ev "github.com/proxydebug/debugmode/internal/stressevent"
)

// windowed reports whether an event type describes a stretch of time, so
// the cooldown keeps it from Files too.
func windowed(typ string) bool {
	return typ == ev.HighSlowRequestRate || typ == ev.HighProvisioningFailureRate || typ == ev.RecordsDropped
}

func heldKey(typ string) string {
	if windowed(typ) {
		return ev.SuppressedKey
	}
	return ev.ConsoleSuppressedKey
}

// slowRecord fires a category's slow event (requests also count toward a
// rate): by the record's ttfb when it has one, else its duration.
func (s *state) slowRecord(ctx context.Context, o *scan) {
	e := Event{Type: "slow_" + o.cat, Level: slog.LevelWarn}
	took := fmt.Sprintf("took %.2fs (threshold %v)", o.dur.Seconds(), o.slow)
	if o.hasTTFB {
		took = fmt.Sprintf("waited %.2fs for its first byte (threshold %v)", o.ttfb.Seconds(), o.slow)
		if o.hasDur {
			took += fmt.Sprintf(", then lasted %.2fs in all", o.dur.Seconds())
		}
	}
	switch o.cat {
	case category.Requests:
		e.Type, e.Description = ev.SlowRequest, "Request "+took
		e.Attrs = o.attrs("method", "path", "ace_id", "status_code", "request_id", ev.GoroutinesKey)
	case category.EngineSelection:
		e.Type, e.Description = ev.SlowEngineSelection, "Engine selection "+took
		e.Attrs = o.attrs("operation", "selected_host", "selected_port", "container_id", "error", "engine_count", "request_id", ev.GoroutinesKey)
	default:
		e.Description, e.Attrs = fmt.Sprintf("%s record %q %s", o.cat, o.record.Message, took), o.attrs("operation", "request_id", ev.GoroutinesKey)
	}
	if o.hasTTFB {
		e.Attrs = append(e.Attrs, slog.Duration("ttfb", o.ttfb))
	}
	if o.hasDur {
		e.Attrs = append(e.Attrs, slog.Duration("duration", o.dur))
	}
	e.Attrs = append(e.Attrs, slog.Duration("threshold", o.slow))
	s.fire(ctx, o.time, e)
	if o.cat == category.Requests {
		what := "slow requests"
		if o.hasTTFB {
			what = "slow starts (first byte after more than " + o.slow.String() + ")"
		}
		s.rate(ctx, o, &s.slowRequests, s.slowRate, ev.HighSlowRequestRate, slog.LevelWarn, what)
	}
}

// streamStalled fires stream_stalled for a streams record that says a
// stream has had no bytes for longer than its threshold (CopyStream's).
func (s *state) streamStalled(ctx context.Context, o *scan) {
	where := ""
	if w := o.attrs("waiting_on"); len(w) > 0 {
		where = ", waiting on the " + w[0].Value.String()
	}
	e := Event{Type: ev.StreamStalled, Level: slog.LevelWarn,
		Description: fmt.Sprintf("Stream stalled: no bytes for %.2fs%s", o.stall.Seconds(), where),
		Attrs: append(o.attrs("stream_id", "ace_id", "engine_id", "engine_host", "engine_port", "container_id", "waiting_on", "request_id", ev.GoroutinesKey),
			slog.Duration("stall", o.stall))}
	if th := o.attrs("threshold"); len(th) > 0 {
		e.Attrs = append(e.Attrs, th[0])
		e.Description = fmt.Sprintf("Stream stalled: no bytes for %.2fs (threshold %v)%s", o.stall.Seconds(), th[0].Value, where)
	}
	s.fire(ctx, o.time, e)
}

// rate counts o in w and fires typ above rate.Count events in the window.
func (s *state) rate(ctx context.Context, o *scan, w *window, rate config.Rate, typ string, level slog.Level, what string, keys ...string) {
	s.mu.Lock()
	n := w.add(s.opts.Now(), rate.Window)
	s.mu.Unlock()
	if n > rate.Count {
		attrs := []slog.Attr{slog.Int("count", n), slog.Duration("window", rate.Window), slog.Int("threshold", rate.Count)}
		s.fire(ctx, o.time, Event{Type: typ, Level: level, Description: fmt.Sprintf("%d %s in the last %v", n, what, rate.Window),
			Attrs: append(attrs, o.attrs(keys...)...)})
	}
}

// reportsCircuitBreaker tells whether a failure names the circuit breaker.
func reportsCircuitBreaker(o *scan) bool {
	for _, a := range o.attrs("code", "blocked_reason_code", "error_code") {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "circuit_breaker" {
			return true
		}
	}
	var msg string
	switch x := o.errVal.Resolve().Any().(type) {
	case string:
		msg = strings.ToLower(x)
	case error:
		msg = strings.ToLower(safeerr.String(x))
	}
	return strings.Contains(msg, "circuit breaker") || strings.Contains(msg, "circuit_breaker")
}

// followHealth records the orchestrator's status and reports whether it
// entered or left "degraded". It does not allocate.
func (s *state) followHealth(sc *scan) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc.prevStatus, sc.degradedAt, s.health = s.health, s.degradedAt, sc.status
	fires := troubled(sc.status) != troubled(sc.prevStatus)
	if fires && troubled(sc.status) {
		s.degradedAt = sc.time
	}
	return fires
}

// troubled reports whether an orchestrator status is one to report:
// degraded (provisioning blocked), or unreachable (integration's reading
// of a call that got no answer). Going from one to the other is no recovery.
func troubled(status string) bool { return status == "degraded" || status == "unreachable" }

// healthStatus fires orchestrator_degraded or orchestrator_recovered.
func (s *state) healthStatus(ctx context.Context, o *scan) {
	capacity := []string{"capacity_total", "capacity_used", "capacity_available", "engine_count", "stream_count"}
	if troubled(o.status) {
		// The reason is the first of keys: the orchestrator's blocked_reason,
		// or the class of a call's failure (connection_refused, timeout, ...).
		keys := []string{"blocked_reason", "blocked_reason_code", "can_provision", "recovery_eta_seconds", "vpn_connected"}
		if o.status == "unreachable" {
			keys = []string{"error_class", "error", "url", "failures"}
		}
		description := "Orchestrator is " + o.status
		if reason := o.attrs(keys[0]); len(reason) > 0 {
			description += ": " + reason[0].Value.String()
		}
		attrs := append(o.attrs(keys...), o.attrs(capacity...)...)
		s.fire(ctx, o.time, Event{Type: ev.OrchestratorDegraded, Level: slog.LevelWarn,
			Description: description, Attrs: append(attrs, slog.String("status", o.status), slog.String("previous_status", o.prevStatus))})
		return
	}
	d := o.time.Sub(o.degradedAt)
	s.fire(ctx, o.time, Event{Type: ev.OrchestratorRecovered, Level: slog.LevelInfo,
		Description: fmt.Sprintf("Orchestrator is %s again after %.1fs %s", o.status, d.Seconds(), o.prevStatus),
		Attrs:       append(o.attrs(capacity...), slog.String("status", o.status), slog.Duration("degraded_for", d))})
}

// reportDrops fires records_dropped with what was dropped since the last report.
func (s *state) reportDrops(ctx context.Context, t time.Time) {
	if !s.drops.CompareAndSwap(true, false) || s.opts.Dropped == nil {
		return
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
		// Counted from here on: a suppressed report's go into the next one sent.
		s.mu.Lock()
		for cat, n := range now {
			s.lastDropped[cat] = max(s.lastDropped[cat], n)
		}
		s.mu.Unlock()
	}
}

// fire counts and emits e at t (cooling down: per-record to Files only,
// windowed nowhere), reporting whether e was sent to Files. Cooldowns run
// on the clock (Options.Now: monotonic), never on record times: a record
// stamped in the future, or a wall clock stepped back, must not mute events.
func (s *state) fire(ctx context.Context, t time.Time, e Event) bool {
	now := s.opts.Now()
	isWindowed := windowed(e.Type)
	cd, ok := s.opts.Cooldowns[e.Type]
	if !ok && e.Type != ev.OrchestratorDegraded && e.Type != ev.OrchestratorRecovered {
		cd = s.opts.Cooldown // the orchestrator's transitions have none unless Cooldowns gives them one
	}
	s.mu.Lock()
	ts := s.types[e.Type]
	if ts == nil {
		ts = &typeState{}
		s.types[e.Type] = ts
	}
	ts.counts.events++
	if now.Before(ts.until) {
		ts.pending++
		if isWindowed {
			ts.counts.suppressed++
		} else {
			ts.counts.consoleSuppressed++
		}
		s.mu.Unlock()
		if !isWindowed {
			s.emit(ctx, s.files, eventRecord(t, e))
			s.notify(ctx, e)
		}
		return !isWindowed
	}
	pending := ts.pending
	ts.pending = 0
	if cd > 0 {
		ts.until = now.Add(cd)
	}
	s.mu.Unlock()
	r := eventRecord(t, e)
	if pending > 0 {
		r.AddAttrs(slog.Int(heldKey(e.Type), pending))
	}
	s.emit(ctx, s.files, r.Clone())
	s.emit(ctx, s.console, r)
	s.notify(ctx, e)
	return true
}

// notify hands e to Options.OnEvent, if set.
func (s *state) notify(ctx context.Context, e Event) {
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(ctx, e)
	}
}

func eventRecord(t time.Time, e Event) slog.Record {
	r := slog.NewRecord(t, e.Level, e.Type, 0)
	r.AddAttrs(slog.String("event_type", e.Type), slog.String("severity", ev.Severity(e.Level)), slog.String("description", e.Description))
	r.AddAttrs(e.Attrs...)
	return r
}

// emit hands r to h (nil: nowhere) if h takes its level. A panic in h is
// returned as an error: a broken Console keeps nothing from Files.
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

const maxWindowEvents = config.MaxRateCount + 1 // enough to exceed the largest count

// window counts events in a sliding time window, at most maxWindowEvents,
// by the clock's readings (monotonic), not the records' times.
type window struct {
	times []time.Time // the events from start on are within the window
	start int
}

// add records an event at t and returns the events within span of t, in
// O(1) amortized (compacted once half have left).
func (w *window) add(t time.Time, span time.Duration) int {
	w.times = append(w.times, t)
	for w.start < len(w.times) && t.Sub(w.times[w.start]) >= span {
		w.start++
	}
	if n := len(w.times) - w.start; n > maxWindowEvents {
		w.start += n - maxWindowEvents
	}
	if w.start > len(w.times)/2 {
		w.times = append(w.times[:0], w.times[w.start:]...)
		w.start = 0
	}
	return len(w.times) - w.start
}

func sortAttrs(attrs []slog.Attr) {
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Key < attrs[j].Key })
}
