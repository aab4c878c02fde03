package stress

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
)

// Event types of the default rules.
const (
	SlowRequest                  = "slow_request"
	SlowEngineSelection          = "slow_engine_selection"
	HighSlowRequestRate          = "high_slow_request_rate"
	HighProvisioningFailureRate  = "high_provisioning_failure_rate"
	ProvisioningCircuitBreaker   = "provisioning_circuit_breaker"
	OrchestratorDegraded         = "orchestrator_degraded"
	OrchestratorRecovered        = "orchestrator_recovered"
	RecordsDropped               = "records_dropped"
	DefaultCooldown              = 30 * time.Second
	DefaultSlowRequest           = 5 * time.Second
	DefaultSlowEngineSelection   = 2 * time.Second
	defaultRateWindow            = time.Minute
	defaultSlowRequestRate       = 10
	defaultProvisioningFailRate  = 5
	maxWindowEvents              = 1 << 16
	defaultSlowEventTypeTemplate = "slow_%s"
)

// StressSuppressed is the event type of the line Close writes when the
// cooldown kept events from Files or the Console that no later event
// reported: its "suppressed" and "console_suppressed" groups hold the
// counts per event type.
const StressSuppressed = "stress_suppressed"

// The keys of the cooldown's counts on an event, in Close's line and in
// Stats.LogValue.
const (
	// SuppressedKey counts the events of a windowed type that the cooldown
	// kept from Files and the Console: they were not written at all.
	SuppressedKey = "suppressed"
	// ConsoleSuppressedKey counts the events of a per-record type that the
	// cooldown kept from the Console: each was sent to Files.
	ConsoleSuppressedKey = "console_suppressed"
)

// Rate is a sliding-window rule: more than Count events within Window.
type Rate struct {
	Count  int
	Window time.Duration
}

// String returns the rate as "10/1m0s", the form ParseRate reads.
func (r Rate) String() string { return fmt.Sprintf("%d/%v", r.Count, r.Window) }

// ParseRate reads "10/1m": a count and a Go duration.
func ParseRate(s string) (Rate, error) {
	count, window, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, errors.New("want COUNT/WINDOW, such as 10/1m")
	}
	var r Rate
	if _, err := fmt.Sscan(count, &r.Count); err != nil || r.Count < 1 {
		return Rate{}, errors.New("want a count of at least 1, such as 10/1m")
	}
	d, err := time.ParseDuration(strings.TrimSpace(window))
	if err != nil || d <= 0 {
		return Rate{}, errors.New("want a positive window, such as 10/1m")
	}
	r.Window = d
	if err := r.Validate(); err != nil {
		return Rate{}, err
	}
	return r, nil
}

// Validate reports whether the rule can fire: a count of at least 1 and
// below the events a window holds (65536), and a positive window. ParseRate
// and slogdebug's configuration check it; New accepts a larger count (a
// rule that never fires).
func (r Rate) Validate() error {
	if r.Count < 1 || r.Count >= maxWindowEvents || r.Window <= 0 {
		return fmt.Errorf("want a count of 1 to %d and a positive window, such as 10/1m", maxWindowEvents-1)
	}
	return nil
}

// Options configure a Handler. Zero fields take the defaults of the
// design's table.
type Options struct {
	// Files receives the record of the incident: every event that is
	// written (in debugmode, the category handler: <session>_stress.jsonl).
	// Each occurrence of a per-record event (slow_request,
	// slow_engine_selection, slow_<category>, provisioning_circuit_breaker,
	// orchestrator_degraded/recovered, the events of Rules) is sent here,
	// whatever the cooldown; a windowed event (high_slow_request_rate,
	// high_provisioning_failure_rate, records_dropped) once per cooldown.
	// Events are records in category "stress" at Info, Warn (warning) or
	// Error (critical). It must not lead back to this Handler.
	Files slog.Handler

	// Console receives what a person watches: the events of Files, except
	// that each event type is sent at most once per cooldown; the events
	// the cooldown keeps from it are counted (see Cooldown). It must not
	// lead back to this Handler. At least one of Files and Console is
	// required.
	Console slog.Handler

	// Slow maps a category to the duration above which a record of that
	// category is slow; it fires "slow_request" for requests,
	// "slow_engine_selection" for engine_selection and "slow_<category>"
	// for any other category. Default: requests 5s, engine_selection 2s.
	// A zero or negative duration turns a category's rule off.
	Slow map[string]time.Duration

	// SlowRequestRate fires high_slow_request_rate: more than Count slow
	// requests within Window. Default 10 in 1m.
	SlowRequestRate Rate

	// ProvisioningFailureRate fires high_provisioning_failure_rate: more
	// than Count failed provisioning records within Window. Default 5 in 1m.
	ProvisioningFailureRate Rate

	// Cooldown is how long an event type stays quiet after it was sent
	// to the Console. A per-record event within its type's cooldown is
	// still sent to Files, but not to the Console, and counted as
	// "console_suppressed"; a windowed event within its cooldown is not sent
	// anywhere, and counted as "suppressed" (records_dropped carries the
	// drops it did not report over to its next report). The next event of
	// the type sent to the Console carries the count since the last one;
	// Close writes the counts no later event carried, and Stats has the
	// totals. Default 30s. The orchestrator's transitions
	// (orchestrator_degraded, orchestrator_recovered) have no cooldown
	// unless Cooldowns gives them one: they happen once per change of the
	// orchestrator's state, and a quieted transition would leave the
	// console showing a state the orchestrator is no longer in. Cooldowns
	// overrides the cooldown per event type (a negative value means no
	// cooldown).
	Cooldown  time.Duration
	Cooldowns map[string]time.Duration

	// Rules are the user's own rules, asked about every observed record.
	Rules []Rule

	// Dropped, when set, reports how many records the category handler
	// has dropped so far, per category; it is consulted after
	// DropsHappened was called, to fire records_dropped.
	Dropped func() map[string]uint64

	// now is the clock for records without a time; tests set it.
	now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.Files == nil && o.Console == nil {
		return o, errors.New("stress: Options.Files or Options.Console is required: the handlers that receive stress events")
	}
	if o.Slow == nil {
		o.Slow = map[string]time.Duration{category.Requests: DefaultSlowRequest, category.EngineSelection: DefaultSlowEngineSelection}
	}
	if o.SlowRequestRate == (Rate{}) {
		o.SlowRequestRate = Rate{Count: defaultSlowRequestRate, Window: defaultRateWindow}
	}
	if o.ProvisioningFailureRate == (Rate{}) {
		o.ProvisioningFailureRate = Rate{Count: defaultProvisioningFailRate, Window: defaultRateWindow}
	}
	if o.Cooldown == 0 {
		o.Cooldown = DefaultCooldown
	}
	if o.now == nil {
		o.now = time.Now
	}
	var errs []error
	for _, r := range []struct {
		name string
		rate Rate
	}{{"SlowRequestRate", o.SlowRequestRate}, {"ProvisioningFailureRate", o.ProvisioningFailureRate}} {
		if r.rate.Count < 1 || r.rate.Window <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: want a count of at least 1 and a positive window", r.name, r.rate))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("stress: invalid options: %w", err)
	}
	return o, nil
}

// windowed reports whether an event type is windowed: it describes a
// state over a stretch of time (a rate within a window, the drops since
// the last report), so the cooldown keeps it from Files too. Every other
// event type, the user's included, is per-record: each occurrence is a
// line in Files.
func windowed(eventType string) bool {
	switch eventType {
	case HighSlowRequestRate, HighProvisioningFailureRate, RecordsDropped:
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
	case OrchestratorDegraded, OrchestratorRecovered:
		return -1
	}
	return o.Cooldown
}

// slowEventType names the event a slow record of category cat fires.
func slowEventType(cat string) string {
	switch cat {
	case category.Requests:
		return SlowRequest
	case category.EngineSelection:
		return SlowEngineSelection
	}
	return fmt.Sprintf(defaultSlowEventTypeTemplate, cat)
}
