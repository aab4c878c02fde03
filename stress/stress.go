package stress

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/safeerr"
)

// Event is one stress event: an event_type, a severity, a description, and
// the attributes that explain it.
type Event struct {
	Type        string
	Severity    Severity
	Description string
	Attrs       []slog.Attr
}

// Rule is a user's own stress rule. It is called for every record the
// Handler observes, on the logging goroutine, and must be quick and safe for
// concurrent use; it returns the event to fire, if any. Its events are
// per-record: each one is sent to Files, and the cooldown of its type
// quiets the Console only, as for the built-in slow_request.
type Rule func(o *Observation) (Event, bool)

// Observation is what a Handler saw of a record.
type Observation struct {
	Time     time.Time
	Level    slog.Level
	Category string
	Message  string

	// Duration is the record's "duration" attribute, when it has one of
	// kind time.Duration.
	Duration    time.Duration
	HasDuration bool

	// Err is the message of the record's "error" attribute (an error or a
	// non-empty string), or "".
	Err string

	record *slog.Record
	bound  []slog.Attr
}

// Attr returns the value of the record's attribute key, or of one bound
// with WithAttrs.
func (o *Observation) Attr(key string) (slog.Value, bool) {
	var v slog.Value
	found := false
	o.record.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, found = a.Value.Resolve(), true
			return false
		}
		return true
	})
	if found {
		return v, true
	}
	for i := len(o.bound) - 1; i >= 0; i-- {
		if o.bound[i].Key == key {
			return o.bound[i].Value.Resolve(), true
		}
	}
	return slog.Value{}, false
}

// attrs returns the attributes among keys that the observation has.
func (o *Observation) attrs(keys ...string) []slog.Attr {
	var out []slog.Attr
	for _, k := range keys {
		if v, ok := o.Attr(k); ok {
			out = append(out, slog.Attr{Key: k, Value: v})
		}
	}
	return out
}

// Handler is a slog.Handler that observes records, writes nothing itself,
// and emits stress events to Options.Files and Options.Console when a rule
// fires. It is safe for concurrent use; handlers made by WithAttrs share
// its state. Close writes what the cooldown kept back and stops it.
//
// The category of a record is its "category" attribute, as for the category
// handler; records of category "stress" (its own events, or the program's)
// are not observed.
type Handler struct {
	s     *state
	cat   string    // bound with WithAttrs
	rule  *slowRule // the bound category's slow rule, or nil
	bound []slog.Attr
}

type slowRule struct {
	threshold time.Duration
	eventType string
}

// state is shared by a Handler and those derived from it.
type state struct {
	opts    Options
	files   slog.Handler // nil when Options.Files is
	console slog.Handler // nil when Options.Console is
	slow    map[string]*slowRule

	drops  atomic.Bool
	closed atomic.Bool

	mu           sync.Mutex
	slowRequests window
	provFailures window
	types        map[string]*typeState
	health       string
	degradedAt   time.Time
	lastDropped  map[string]uint64
}

// typeState is an event type's cooldown and counts.
type typeState struct {
	until   time.Time // the cooldown ends
	pending int       // kept back since the type's last event sent to the Console
	stats   EventStats
}

// New returns a Handler with opts' rules.
func New(opts Options) (*Handler, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	category := []slog.Attr{slog.String(category.Key, category.Stress)}
	s := &state{
		opts:        opts,
		slow:        make(map[string]*slowRule, len(opts.Slow)),
		types:       make(map[string]*typeState),
		lastDropped: make(map[string]uint64),
	}
	if opts.Files != nil {
		s.files = opts.Files.WithAttrs(category)
	}
	if opts.Console != nil {
		s.console = opts.Console.WithAttrs(category)
	}
	for cat, d := range opts.Slow {
		if d > 0 {
			s.slow[cat] = &slowRule{threshold: d, eventType: slowEventType(cat)}
		}
	}
	return &Handler{s: s}, nil
}

// Enabled reports true: every level is observed.
func (h *Handler) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs returns a Handler that observes records with attrs bound; a
// "category" attr binds the category.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.bound = append(h.bound[:len(h.bound):len(h.bound)], attrs...)
	for _, a := range attrs {
		if a.Key == category.Key {
			if c := a.Value.Resolve().String(); c != "" {
				h2.cat, h2.rule = c, h.s.slowRuleOf(c)
			}
		}
	}
	return &h2
}

// WithGroup returns h: attribute keys are matched whatever groups are
// open, as the category handler routes by "category" whatever they are.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// DropsHappened tells the handler that the category handler dropped
// records; the next observed record fires records_dropped with the counts
// from Options.Dropped (what was dropped since the last report emitted).
// It is cheap and safe to call from any goroutine; it does not log.
func (h *Handler) DropsHappened() {
	if !h.s.drops.Load() {
		h.s.drops.Store(true)
	}
}

// Handle observes r. It never fails. A record that fires nothing costs a
// scan of its attributes and no allocation. After Close it observes
// nothing.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	s := h.s
	if s.closed.Load() {
		return nil
	}
	sc := scan{cat: h.cat}
	if r.NumAttrs() > 0 {
		r.Attrs(func(a slog.Attr) bool { sc.see(a); return true })
	}
	cat, rule := sc.cat, h.rule
	dur, hasDur, errVal, hasErr := sc.dur, sc.hasDur, sc.errVal, sc.hasErr
	success, hasSuccess, status, recordCat := sc.success, sc.hasSuccess, sc.status, sc.recordCat
	if cat == category.Stress {
		return nil
	}
	if s.drops.Load() {
		s.reportDrops(ctx, r.Time)
	}
	if recordCat {
		rule = s.slowRuleOf(cat)
	}
	slow := hasDur && rule != nil && dur > rule.threshold
	failed := cat == category.Provisioning && ((hasSuccess && !success) || hasErr) && !sc.summary
	var health healthChange
	if cat == category.OrchestratorHealth && status != "" {
		health = s.followHealth(status, r.Time)
	}
	if !slow && !failed && !health.fires && len(s.opts.Rules) == 0 {
		return nil
	}

	// Something may fire: build the observation (this path allocates).
	rc := r
	o := &Observation{
		Time: r.Time, Level: r.Level, Category: cat, Message: r.Message,
		Duration: dur, HasDuration: hasDur,
		record: &rc, bound: h.bound,
	}
	if o.Time.IsZero() {
		o.Time = s.opts.now()
	}
	if hasErr {
		o.Err = errorText(errVal)
	}
	if slow {
		s.slowRecord(ctx, o, *rule)
	}
	if failed {
		s.provisioningFailure(ctx, o)
	}
	if health.fires {
		s.healthStatus(ctx, o, status, health)
	}
	for _, rule := range s.opts.Rules {
		if ev, ok := rule(o); ok {
			s.fire(ctx, o.Time, ev)
		}
	}
	return nil
}

// SummaryKey marks a record that sums up failures already logged one by one
// (a retry loop's final provision_failed): with SummaryKey=true it counts
// toward no window and fires no per-record event, so a window counts real
// failures.
const SummaryKey = "summary"

// scan collects the attributes the rules look at.
type scan struct {
	summary             bool
	cat                 string
	recordCat           bool
	dur                 time.Duration
	hasDur              bool
	errVal              slog.Value
	hasErr              bool
	success, hasSuccess bool
	status              string
}

// see looks at one attribute; it runs for every attribute of every record,
// so keys are matched by length first.
func (sc *scan) see(a slog.Attr) {
	switch k := a.Key; len(k) {
	case 8:
		if k == "duration" {
			if a.Value.Kind() == slog.KindDuration {
				sc.dur, sc.hasDur = a.Value.Duration(), true
			}
		} else if k == category.Key {
			if c := a.Value.Resolve().String(); c != "" {
				sc.cat, sc.recordCat = c, true
			}
		}
	case 5:
		if k == "error" {
			sc.errVal, sc.hasErr = a.Value, !isNone(a.Value)
		}
	case 7:
		if k == "success" && a.Value.Kind() == slog.KindBool {
			sc.success, sc.hasSuccess = a.Value.Bool(), true
		} else if k == SummaryKey && a.Value.Kind() == slog.KindBool {
			sc.summary = a.Value.Bool()
		}
	case 6:
		if k == "status" && a.Value.Kind() == slog.KindString {
			sc.status = a.Value.String()
		}
	}
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

// slowRuleOf returns the slow rule of a category, or nil.
func (s *state) slowRuleOf(cat string) *slowRule {
	if r, ok := s.slow[cat]; ok {
		return r
	}
	return nil
}

// errorText is the message of an error attribute's value.
func errorText(v slog.Value) string {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return safeError(err)
		}
	}
	return ""
}

func safeError(err error) string { return safeerr.String(err) }

// slowRecord fires the slow event of a category, and for requests counts
// it towards high_slow_request_rate.
func (s *state) slowRecord(ctx context.Context, o *Observation, rule slowRule) {
	ev := Event{Type: rule.eventType, Severity: SeverityWarning}
	switch o.Category {
	case category.Requests:
		ev.Description = fmt.Sprintf("Request took %.2fs (threshold %v)", o.Duration.Seconds(), rule.threshold)
		ev.Attrs = o.attrs("method", "path", "ace_id", "status_code", "request_id")
	case category.EngineSelection:
		ev.Description = fmt.Sprintf("Engine selection took %.2fs (threshold %v)", o.Duration.Seconds(), rule.threshold)
		ev.Attrs = o.attrs("operation", "selected_host", "selected_port", "container_id", "error", "engine_count", "request_id")
	default:
		ev.Description = fmt.Sprintf("%s record %q took %.2fs (threshold %v)", o.Category, o.Message, o.Duration.Seconds(), rule.threshold)
		ev.Attrs = o.attrs("operation", "request_id")
	}
	ev.Attrs = append(ev.Attrs, slog.Duration("duration", o.Duration), slog.Duration("threshold", rule.threshold))
	s.fire(ctx, o.Time, ev)

	if o.Category != category.Requests {
		return
	}
	rate := s.opts.SlowRequestRate
	s.mu.Lock()
	n := s.slowRequests.add(o.Time, rate.Window)
	s.mu.Unlock()
	if n > rate.Count {
		s.fire(ctx, o.Time, Event{
			Type:        HighSlowRequestRate,
			Severity:    SeverityWarning,
			Description: fmt.Sprintf("%d slow requests in the last %v", n, rate.Window),
			Attrs:       []slog.Attr{slog.Int("count", n), slog.Duration("window", rate.Window), slog.Int("threshold", rate.Count)},
		})
	}
}

// provisioningFailure counts a failed provisioning record and fires the
// circuit-breaker and failure-rate events.
func (s *state) provisioningFailure(ctx context.Context, o *Observation) {
	if reportsCircuitBreaker(o) {
		ev := Event{
			Type:        ProvisioningCircuitBreaker,
			Severity:    SeverityCritical,
			Description: "Provisioning blocked by the orchestrator's circuit breaker",
			Attrs:       o.attrs("operation", "error", "retry_count", "recovery_eta_seconds", "request_id"),
		}
		s.fire(ctx, o.Time, ev)
	}
	rate := s.opts.ProvisioningFailureRate
	s.mu.Lock()
	n := s.provFailures.add(o.Time, rate.Window)
	s.mu.Unlock()
	if n > rate.Count {
		attrs := []slog.Attr{slog.Int("count", n), slog.Duration("window", rate.Window), slog.Int("threshold", rate.Count)}
		attrs = append(attrs, o.attrs("operation", "error")...)
		s.fire(ctx, o.Time, Event{
			Type:        HighProvisioningFailureRate,
			Severity:    SeverityCritical,
			Description: fmt.Sprintf("%d provisioning failures in the last %v", n, rate.Window),
			Attrs:       attrs,
		})
	}
}

// reportsCircuitBreaker tells whether a provisioning failure was the
// orchestrator's circuit breaker: its code (code, blocked_reason_code,
// error_code) says circuit_breaker, or its error message names it.
func reportsCircuitBreaker(o *Observation) bool {
	for _, k := range []string{"code", "blocked_reason_code", "error_code"} {
		if v, ok := o.Attr(k); ok && v.Kind() == slog.KindString && v.String() == "circuit_breaker" {
			return true
		}
	}
	return containsFold(o.Err, "circuit breaker") || containsFold(o.Err, "circuit_breaker")
}

// containsFold reports whether s contains the ASCII substring sub, ignoring
// ASCII case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			a, b := s[i+j], sub[j]
			if 'A' <= a && a <= 'Z' {
				a += 'a' - 'A'
			}
			if a != b {
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
func (s *state) healthStatus(ctx context.Context, o *Observation, status string, c healthChange) {
	prev, since := c.prev, c.since
	switch {
	case status == "degraded" && prev != "degraded":
		reason := ""
		if v, ok := o.Attr("blocked_reason"); ok {
			reason = v.String()
		}
		s.fire(ctx, o.Time, Event{
			Type:        OrchestratorDegraded,
			Severity:    SeverityWarning,
			Description: "Orchestrator is degraded: " + reason,
			Attrs: append(o.attrs("blocked_reason", "blocked_reason_code", "can_provision", "recovery_eta_seconds",
				"vpn_connected", "capacity_total", "capacity_used", "capacity_available", "engine_count", "stream_count"),
				slog.String("previous_status", prev)),
		})
	case prev == "degraded" && status != "degraded":
		s.fire(ctx, o.Time, Event{
			Type:        OrchestratorRecovered,
			Severity:    SeverityInfo,
			Description: fmt.Sprintf("Orchestrator is %s again after %.1fs degraded", status, o.Time.Sub(since).Seconds()),
			Attrs: append(o.attrs("capacity_total", "capacity_used", "capacity_available", "engine_count", "stream_count"),
				slog.String("status", status), slog.Duration("degraded_for", o.Time.Sub(since))),
		})
	}
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
	emitted := s.fire(ctx, t, Event{
		Type:        RecordsDropped,
		Severity:    SeverityWarning,
		Description: fmt.Sprintf("%d debug records dropped: the queue was full", total),
		Attrs:       []slog.Attr{slog.Uint64("count", total), slog.Attr{Key: "categories", Value: slog.GroupValue(cats...)}},
	})
	if emitted {
		// Counted from here on; a suppressed report's drops go into the
		// next report that is emitted.
		s.mu.Lock()
		for cat, n := range now {
			s.lastDropped[cat] = max(s.lastDropped[cat], n)
		}
		s.mu.Unlock()
	}
}

// fire counts ev and emits it: a per-record event to Files always and to
// the Console unless its type is cooling down; a windowed event to both
// unless its type is cooling down, and nowhere if it is. It reports
// whether ev was sent to Files.
func (s *state) fire(ctx context.Context, t time.Time, ev Event) bool {
	isWindowed := windowed(ev.Type)
	cd := s.opts.cooldownOf(ev.Type)
	s.mu.Lock()
	ts := s.types[ev.Type]
	if ts == nil {
		ts = &typeState{}
		s.types[ev.Type] = ts
	}
	ts.stats.Events++
	if t.Before(ts.until) {
		ts.pending++
		if isWindowed {
			ts.stats.Suppressed++
		} else {
			ts.stats.ConsoleSuppressed++
		}
		s.mu.Unlock()
		if isWindowed {
			return false
		}
		r := eventRecord(t, ev)
		s.emit(ctx, s.files, r)
		return true
	}
	pending := ts.pending
	ts.pending = 0
	if cd > 0 {
		ts.until = t.Add(cd)
	}
	s.mu.Unlock()

	r := eventRecord(t, ev)
	if pending > 0 {
		key := ConsoleSuppressedKey
		if isWindowed {
			key = SuppressedKey
		}
		r.AddAttrs(slog.Int(key, pending))
	}
	s.emit(ctx, s.files, r.Clone())
	s.emit(ctx, s.console, r)
	return true
}

// eventRecord is the record of an event.
func eventRecord(t time.Time, ev Event) slog.Record {
	r := slog.NewRecord(t, ev.Severity.Level(), ev.Type, 0)
	r.AddAttrs(
		slog.String("event_type", ev.Type),
		slog.String("severity", string(ev.Severity)),
		slog.String("description", ev.Description),
	)
	r.AddAttrs(ev.Attrs...)
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
