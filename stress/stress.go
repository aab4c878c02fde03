package stress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	ev "github.com/proxydebug/debugmode/internal/stressevent"
)

// Event is one stress event: its event_type, the level it is logged at, a
// description, and the attributes that explain it. Its "severity" follows
// from Level: critical at slog.LevelError and above, warning at
// slog.LevelWarn and above, info below.
type Event struct {
	Type        string
	Level       slog.Level
	Description string
	Attrs       []slog.Attr
}

// Options configure a Handler. Zero fields take the defaults of the
// package's table.
type Options struct {
	// Files receives the record of the incident: every per-record event,
	// whatever the cooldown, and the windowed ones once per cooldown (in
	// debugmode, the category handler: <session>_stress.jsonl). Events are
	// records in category "stress" at their Event.Level. It must not lead
	// back to this Handler.
	Files slog.Handler

	// Console receives what a person watches: the events of Files, each
	// event type at most once per cooldown. It must not lead back to this
	// Handler. At least one of Files and Console is required.
	Console slog.Handler

	// Slow maps a category to the duration above which a record of that
	// category is slow; it fires "slow_request" for requests,
	// "slow_engine_selection" for engine_selection and "slow_<category>"
	// for any other category. Default: requests 5s, engine_selection 2s.
	// A zero or negative duration turns a category's rule off.
	Slow map[string]time.Duration

	// SlowRequestRate ("COUNT/WINDOW", default "10/1m") fires
	// high_slow_request_rate: more than COUNT slow requests within WINDOW.
	// ProvisioningFailureRate (default "5/1m") fires
	// high_provisioning_failure_rate for failed provisioning records.
	SlowRequestRate, ProvisioningFailureRate string

	// Cooldown is how long an event type stays quiet after it was sent to
	// the Console (default 30s; negative: none); see the package
	// documentation for what the cooldown keeps from where. Cooldowns
	// overrides it per event type (negative: none). The orchestrator's
	// transitions have no cooldown unless Cooldowns gives them one: a
	// quieted transition would leave the console showing a state the
	// orchestrator is no longer in.
	Cooldown  time.Duration
	Cooldowns map[string]time.Duration

	// Rules are the user's own rules, asked about every observed record:
	// its category and the record, with the attributes bound by WithAttrs
	// first. A rule runs on the logging goroutine, must be quick and safe
	// for concurrent use, and must not keep r. Its events are per-record,
	// as slow_request is.
	Rules []func(category string, r slog.Record) (Event, bool)

	// Dropped, when set, reports how many records the category handler
	// has dropped so far, per category; it is consulted after
	// DropsHappened was called, to fire records_dropped.
	Dropped func() map[string]uint64

	// now is the clock for records without a time; tests set it.
	now func() time.Time
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
	opts               Options
	files, console     slog.Handler // nil when the Option is
	slow               map[string]*slowRule
	slowRate, failRate config.Rate

	drops, closed atomic.Bool

	mu                         sync.Mutex
	slowRequests, provFailures window
	types                      map[string]*typeState
	health                     string
	degradedAt                 time.Time
	lastDropped                map[string]uint64
}

// typeState is an event type's cooldown and counts.
type typeState struct {
	until   time.Time // the cooldown ends
	pending int       // kept back since the type's last event sent to the Console
	counts  counts
}

// New returns a Handler with opts' rules.
func New(opts Options) (*Handler, error) {
	if opts.Files == nil && opts.Console == nil {
		return nil, errors.New("stress: Options.Files or Options.Console is required: the handlers that receive stress events")
	}
	if opts.Slow == nil {
		opts.Slow = map[string]time.Duration{category.Requests: config.DefaultSlowRequest, category.EngineSelection: config.DefaultSlowEngineSelection}
	}
	if opts.Cooldown == 0 {
		opts.Cooldown = config.DefaultStressCooldown
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	s := &state{opts: opts, slow: make(map[string]*slowRule, len(opts.Slow)),
		types: make(map[string]*typeState), lastDropped: make(map[string]uint64)}
	var errs []error
	for _, r := range []struct {
		name, s, def string
		dst          *config.Rate
	}{{"SlowRequestRate", opts.SlowRequestRate, config.DefaultSlowRequestRate, &s.slowRate},
		{"ProvisioningFailureRate", opts.ProvisioningFailureRate, config.DefaultProvisioningRate, &s.failRate}} {
		if r.s == "" {
			r.s = r.def
		}
		var err error
		if *r.dst, err = config.ParseRate(r.s); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", r.name, r.s, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("stress: invalid options: %w", err)
	}
	catAttr := []slog.Attr{slog.String(category.Key, category.Stress)}
	if opts.Files != nil {
		s.files = opts.Files.WithAttrs(catAttr)
	}
	if opts.Console != nil {
		s.console = opts.Console.WithAttrs(catAttr)
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
				h2.cat, h2.rule = c, h.s.slow[c]
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
	if cat == category.Stress {
		return nil
	}
	if s.drops.Load() {
		s.reportDrops(ctx, r.Time)
	}
	if sc.recordCat {
		rule = s.slow[cat]
	}
	slow := sc.hasDur && rule != nil && sc.dur > rule.threshold
	failed := cat == category.Provisioning && ((sc.hasSuccess && !sc.success) || sc.hasErr) && !sc.summary
	var health healthChange
	if cat == category.OrchestratorHealth && sc.status != "" {
		health = s.followHealth(sc.status, r.Time)
	}
	if !slow && !failed && !health.fires && len(s.opts.Rules) == 0 {
		return nil
	}

	// Something may fire: build the observation (this path allocates).
	rc := r // r itself stays on the stack on the path above
	o := &obs{time: r.Time, cat: cat, msg: r.Message, dur: sc.dur, record: &rc, bound: h.bound}
	if o.time.IsZero() {
		o.time = s.opts.now()
	}
	if sc.hasErr {
		o.err = errorText(sc.errVal)
	}
	if slow {
		s.slowRecord(ctx, o, *rule)
	}
	if failed {
		s.provisioningFailure(ctx, o)
	}
	if health.fires {
		s.healthStatus(ctx, o, sc.status, health)
	}
	if len(s.opts.Rules) > 0 {
		ur := r.Clone()
		if len(h.bound) > 0 {
			ur = slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
			ur.AddAttrs(h.bound...)
			r.Attrs(func(a slog.Attr) bool { ur.AddAttrs(a); return true })
		}
		for _, rule := range s.opts.Rules {
			if e, ok := rule(cat, ur); ok {
				s.fire(ctx, o.time, e)
			}
		}
	}
	return nil
}

// obs is what a Handler saw of a record that may fire a built-in rule.
type obs struct {
	time     time.Time
	cat, msg string
	dur      time.Duration
	err      string // the message of the "error" attribute, or ""
	record   *slog.Record
	bound    []slog.Attr
}

// attr returns the value of the record's attribute key, or of one bound
// with WithAttrs.
func (o *obs) attr(key string) (slog.Value, bool) {
	var v slog.Value
	found := false
	o.record.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, found = a.Value.Resolve(), true
		}
		return !found
	})
	for i := len(o.bound) - 1; i >= 0 && !found; i-- {
		if o.bound[i].Key == key {
			v, found = o.bound[i].Value.Resolve(), true
		}
	}
	return v, found
}

// attrs returns the attributes among keys that the observation has.
func (o *obs) attrs(keys ...string) []slog.Attr {
	var out []slog.Attr
	for _, k := range keys {
		if v, ok := o.attr(k); ok {
			out = append(out, slog.Attr{Key: k, Value: v})
		}
	}
	return out
}

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
		} else if k == ev.SummaryKey && a.Value.Kind() == slog.KindBool {
			sc.summary = a.Value.Bool()
		}
	case 6:
		if k == "status" && a.Value.Kind() == slog.KindString {
			sc.status = a.Value.String()
		}
	}
}
