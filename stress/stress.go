package stress

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
	ev "github.com/proxydebug/debugmode/internal/stressevent"
)

// Event is one stress event; its "severity" follows from Level (critical
// from Error, warning from Warn, info below).
type Event struct {
	Type        string
	Level       slog.Level
	Description string
	Attrs       []slog.Attr
}

// Options configure a Handler; zero fields take the defaults.
type Options struct {
	// Files receives the record of the incident, Console what a person
	// watches. At least one is required; neither may lead back here.
	Files, Console slog.Handler

	// Slow maps a category to its slow threshold (slow_<category>); default
	// requests 5s, engine_selection 2s; zero or less turns one off.
	Slow map[string]time.Duration

	// SlowRequestRate (default "10/1m") and ProvisioningFailureRate ("5/1m")
	// are COUNT/WINDOW: the high_*_rate events fire above COUNT in WINDOW.
	SlowRequestRate, ProvisioningFailureRate string

	// Cooldown keeps an event type off the Console after one (default 30s;
	// negative: none); Cooldowns per type. Orchestrator transitions have none.
	Cooldown  time.Duration
	Cooldowns map[string]time.Duration

	// Rules are the user's own per-record rules, run on the logging goroutine:
	// quick, safe for concurrent use, not keeping r.
	Rules []func(category string, r slog.Record) (Event, bool)

	// Dropped reports the records dropped so far per category (records_dropped).
	Dropped func() map[string]uint64

	// Now is the clock of windows and cooldowns (never the records' times,
	// which a wrong clock or a future stamp would mute), and of records
	// without a time; nil: time.Now.
	Now func() time.Time

	// OnEvent, when set, is called with every event written to Files (or
	// that would be, without Files): each per-record event, and each
	// windowed one the cooldown lets through; not stress_suppressed. It is
	// called on the goroutine that logged the record which fired the
	// event, with its context: it must return at once (queue the work),
	// be safe for concurrent use, and not keep ctx past the call.
	OnEvent func(ctx context.Context, e Event)
}

// Handler is a slog.Handler that observes records and emits stress events
// to Options.Files and Console when a rule fires; records of category
// "stress" are not observed. It is safe for concurrent use.
type Handler struct {
	s     *state
	cat   string        // bound with WithAttrs
	slow  time.Duration // the bound category's slow threshold, or 0
	bound []slog.Attr
}

// state is shared by a Handler and those derived from it.
type state struct {
	opts                       Options
	files, console             slog.Handler             // nil when the Option is
	slow                       map[string]time.Duration // the positive thresholds of Options.Slow
	slowRate, failRate         config.Rate
	drops, closed              atomic.Bool
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
	opts.Cooldown = cmp.Or(opts.Cooldown, config.DefaultStressCooldown)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &state{opts: opts, slow: make(map[string]time.Duration, len(opts.Slow)),
		types: make(map[string]*typeState), lastDropped: make(map[string]uint64)}
	var errs []error
	rate := func(name, v, def string) config.Rate {
		v = cmp.Or(v, def)
		r, err := config.ParseRate(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", name, v, err))
		}
		return r
	}
	s.slowRate = rate("SlowRequestRate", opts.SlowRequestRate, config.DefaultSlowRequestRate)
	s.failRate = rate("ProvisioningFailureRate", opts.ProvisioningFailureRate, config.DefaultProvisioningRate)
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
			s.slow[cat] = d
		}
	}
	return &Handler{s: s}, nil
}

// Enabled reports true: every level is observed.
func (h *Handler) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs returns a Handler with attrs bound (a "category" binds the category).
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.bound = append(h.bound[:len(h.bound):len(h.bound)], attrs...)
	if c := category.Bound(h.cat, attrs); c != h.cat {
		c = handler.SanitizeCategory(c) // the file's name for it: "Requests" is requests
		h2.cat, h2.slow = c, h.s.slow[c]
	}
	return &h2
}

// WithGroup returns h: keys match whatever groups are open, as routing does.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// DropsHappened makes the next observed record fire records_dropped. It is
// cheap, does not log, and is safe from any goroutine.
func (h *Handler) DropsHappened() {
	if !h.s.drops.Load() {
		h.s.drops.Store(true)
	}
}

// Handle observes r until Close; a record that fires nothing does not allocate.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	s := h.s
	if s.closed.Load() {
		return nil
	}
	sc := scan{cat: h.cat, slow: h.slow, time: r.Time}
	r.Attrs(func(a slog.Attr) bool { sc.see(a, s); return true })
	if sc.cat == category.Stress {
		return nil
	}
	if sc.time.IsZero() {
		sc.time = s.opts.Now()
	}
	if s.drops.Load() {
		s.reportDrops(ctx, sc.time)
	}
	// A response is slow by its wait for the first byte (ttfb), when it
	// has one, not by how long it streamed: a stream lasts minutes or hours.
	slow := sc.slow > 0 && (sc.hasTTFB && sc.ttfb > sc.slow || !sc.hasTTFB && sc.hasDur && sc.dur > sc.slow)
	failed := sc.cat == category.Provisioning && ((sc.hasSuccess && !sc.success) || sc.hasErr) && !sc.summary
	health := sc.cat == category.OrchestratorHealth && sc.status != "" && s.followHealth(&sc)
	stalled := sc.cat == category.Streams && sc.stalled
	if !slow && !failed && !health && !stalled && len(s.opts.Rules) == 0 {
		return nil
	}
	o, rc := new(scan), r // something may fire: this path allocates (r itself stays on the stack above)
	*o = sc
	o.record, o.bound = &rc, h.bound
	if slow {
		s.slowRecord(ctx, o)
	}
	if failed {
		if reportsCircuitBreaker(o) {
			s.fire(ctx, o.time, Event{Type: ev.ProvisioningCircuitBreaker, Level: slog.LevelError, Description: "Provisioning blocked by the orchestrator's circuit breaker",
				Attrs: o.attrs("operation", "error", "retry_count", "recovery_eta_seconds", "decision", "decision_reason", "request_id")})
		}
		s.rate(ctx, o, &s.provFailures, s.failRate, ev.HighProvisioningFailureRate, slog.LevelError, "provisioning failures", "operation", "error", "decision", "decision_reason")
	}
	if health {
		s.healthStatus(ctx, o)
	}
	if stalled {
		s.streamStalled(ctx, o)
	}
	if len(s.opts.Rules) > 0 {
		ur := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		ur.AddAttrs(h.bound...)
		r.Attrs(func(a slog.Attr) bool { ur.AddAttrs(a); return true })
		for _, rule := range s.opts.Rules {
			if e, ok := rule(o.cat, ur); ok {
				s.fire(ctx, o.time, e)
			}
		}
	}
	return nil
}

// scan is what a Handler saw of a record (and the record, when a rule may fire).
type scan struct {
	cat, status, prevStatus      string        // prevStatus: the orchestrator's status before this record
	slow, dur, ttfb, stall       time.Duration // slow: the category's slow threshold, or 0
	errVal                       slog.Value
	degradedAt, time             time.Time // degradedAt: since when it was degraded, before this record
	hasDur, hasTTFB, hasErr      bool
	success, hasSuccess, summary bool
	stalled                      bool // event_type stream_stalled
	record                       *slog.Record
	bound                        []slog.Attr
}

// see looks at one attribute of every record, matching keys by length first.
func (sc *scan) see(a slog.Attr, s *state) {
	switch k := a.Key; len(k) {
	case 8:
		if k == "duration" && a.Value.Kind() == slog.KindDuration {
			sc.dur, sc.hasDur = a.Value.Duration(), true
		} else if c, ok := category.Of(a); ok {
			c = handler.SanitizeCategory(c)
			sc.cat, sc.slow = c, s.slow[c]
		}
	case 4:
		if k == "ttfb" && a.Value.Kind() == slog.KindDuration {
			sc.ttfb, sc.hasTTFB = a.Value.Duration(), true
		}
	case 5:
		if k == "error" {
			v := a.Value // nil or "" is no error
			sc.errVal, sc.hasErr = v, !(v.Kind() == slog.KindAny && v.Any() == nil || v.Kind() == slog.KindString && v.String() == "")
		} else if k == "stall" && a.Value.Kind() == slog.KindDuration {
			sc.stall = a.Value.Duration()
		}
	case 10:
		if k == "event_type" && a.Value.Kind() == slog.KindString {
			sc.stalled = a.Value.String() == ev.StreamStalled
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

// attrs returns the record's or bound attributes among keys (the record's win).
func (sc *scan) attrs(keys ...string) []slog.Attr {
	var out []slog.Attr
	for _, k := range keys {
		found := false
		sc.record.Attrs(func(a slog.Attr) bool {
			if a.Key == k {
				out, found = append(out, slog.Attr{Key: k, Value: a.Value.Resolve()}), true
			}
			return !found
		})
		for i := len(sc.bound) - 1; i >= 0 && !found; i-- {
			if sc.bound[i].Key == k {
				out, found = append(out, slog.Attr{Key: k, Value: sc.bound[i].Value.Resolve()}), true
			}
		}
	}
	return out
}
