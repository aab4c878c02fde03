package stress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	se "github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capture is an Emit handler that keeps every event as a flat map.
type capture struct {
	mu     *sync.Mutex
	events *[]map[string]any
	bound  []slog.Attr
	level  slog.Level
}

func newCapture() *capture {
	return &capture{mu: &sync.Mutex{}, events: new([]map[string]any), level: slog.LevelDebug}
}

func (c *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c *capture) WithGroup(string) slog.Handler                { return c }
func (c *capture) WithAttrs(as []slog.Attr) slog.Handler {
	c2 := *c
	c2.bound = append(c.bound[:len(c.bound):len(c.bound)], as...)
	return &c2
}
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"level": r.Level, "msg": r.Message, "time": r.Time}
	for _, a := range c.bound {
		m[a.Key] = a.Value.Any()
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindGroup {
			g := map[string]any{}
			for _, ga := range a.Value.Group() {
				g[ga.Key] = ga.Value.Any()
			}
			m[a.Key] = g
		} else {
			m[a.Key] = a.Value.Any()
		}
		return true
	})
	c.mu.Lock()
	*c.events = append(*c.events, m)
	c.mu.Unlock()
	return nil
}

func (c *capture) all() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), *c.events...)
}

func (c *capture) types() []string {
	var out []string
	for _, e := range c.all() {
		out = append(out, e["event_type"].(string))
	}
	return out
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// rig is a stress Handler with a capture of what it sends to Files (out)
// and to the Console (console).
type rig struct {
	h       *Handler
	out     *capture
	console *capture
	mu      sync.Mutex
	clock   time.Time // the stress clock (Options.Now), moved by log
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	out, console := newCapture(), newCapture()
	opts.Files, opts.Console = out, console
	r := &rig{out: out, console: console, clock: t0}
	if opts.Now == nil {
		opts.Now = r.now
	}
	h, err := New(opts)
	require.NoError(t, err)
	r.h = h
	return r
}

func (r *rig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

// log sends one record of a category at t0+at, the clock at that time too.
func (r *rig) log(t *testing.T, category string, at time.Duration, attrs ...slog.Attr) {
	t.Helper()
	r.mu.Lock()
	r.clock = t0.Add(at)
	r.mu.Unlock()
	rec := slog.NewRecord(t0.Add(at), slog.LevelDebug, category, 0)
	rec.AddAttrs(attrs...)
	require.NoError(t, r.h.WithAttrs([]slog.Attr{slog.String("category", category)}).Handle(context.Background(), rec))
}

func noCooldown() map[string]time.Duration {
	return map[string]time.Duration{se.SlowRequest: -1, se.SlowEngineSelection: -1, se.HighSlowRequestRate: -1,
		se.HighProvisioningFailureRate: -1, se.ProvisioningCircuitBreaker: -1, se.OrchestratorDegraded: -1, se.OrchestratorRecovered: -1}
}

func TestSlowRequestThresholdEdge(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	r.log(t, "requests", 0, slog.Duration("duration", 5*time.Second), slog.String("path", "/ace/getstream"))
	assert.Empty(t, r.out.all(), "exactly 5s is not slow")
	r.log(t, "requests", time.Second, slog.Duration("duration", 5*time.Second+time.Nanosecond),
		slog.String("method", "GET"), slog.String("path", "/ace/getstream"), slog.String("ace_id", "abc"), slog.Int("status_code", 200))
	ev := r.out.all()
	require.Len(t, ev, 1)
	assert.Equal(t, se.SlowRequest, ev[0]["event_type"])
	assert.Equal(t, "warning", ev[0]["severity"])
	assert.Equal(t, slog.LevelWarn, ev[0]["level"])
	assert.Equal(t, "stress", ev[0]["category"])
	assert.Equal(t, "/ace/getstream", ev[0]["path"])
	assert.Equal(t, "abc", ev[0]["ace_id"])
	assert.Equal(t, 5*time.Second+time.Nanosecond, ev[0]["duration"])
	assert.Equal(t, 5*time.Second, ev[0]["threshold"])
	assert.Equal(t, t0.Add(time.Second), ev[0]["time"], "the event has the time of the record that fired it")
	assert.Contains(t, ev[0]["description"], "Request took 5.00s")
}

func TestSlowEngineSelectionAndOtherCategories(t *testing.T) {
	r := newRig(t, Options{Slow: map[string]time.Duration{"engine_selection": 2 * time.Second, "streams": 10 * time.Second}})
	r.log(t, "engine_selection", 0, slog.Duration("duration", 2*time.Second))
	r.log(t, "engine_selection", 0, slog.Duration("duration", 2001*time.Millisecond), slog.String("operation", "select_best_engine"))
	r.log(t, "requests", 0, slog.Duration("duration", time.Hour)) // no requests rule in this Slow map
	r.log(t, "streams", 0, slog.Duration("duration", 11*time.Second))
	r.log(t, "errors", 0, slog.Duration("duration", time.Hour))
	r.log(t, "engine_selection", 0, slog.Int64("duration", int64(time.Hour))) // not a time.Duration
	assert.Equal(t, []string{se.SlowEngineSelection, "slow_streams"}, r.out.types())
	assert.Equal(t, "select_best_engine", r.out.all()[0]["operation"])
}

func TestSlowRequestRateSlidesAndExpires(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	slow := slog.Duration("duration", 6*time.Second)
	for i := range 10 {
		r.log(t, "requests", time.Duration(i)*5*time.Second, slow) // 0s .. 45s
	}
	assert.NotContains(t, r.out.types(), se.HighSlowRequestRate, "10 is not more than 10")

	// As new slow requests come, the oldest leave the minute: the count
	// stays at 10.
	r.log(t, "requests", 61*time.Second, slow) // 0s left: 5s..45s and 61s
	r.log(t, "requests", 66*time.Second, slow) // 5s left: 10s..45s, 61s, 66s
	assert.NotContains(t, r.out.types(), se.HighSlowRequestRate)
	r.log(t, "requests", 67*time.Second, slow) // 11 within 7s..67s
	ev := r.out.all()
	last := ev[len(ev)-1]
	require.Equal(t, se.HighSlowRequestRate, last["event_type"])
	assert.Equal(t, int64(11), last["count"])
	assert.Equal(t, time.Minute, last["window"])

	// Fast requests never count.
	r2 := newRig(t, Options{Cooldowns: noCooldown()})
	for i := range 50 {
		r2.log(t, "requests", time.Duration(i)*time.Millisecond, slog.Duration("duration", time.Second))
	}
	assert.Empty(t, r2.out.all())
}

func TestWindowBoundary(t *testing.T) {
	var w window
	assert.Equal(t, 1, w.add(t0, time.Minute))
	assert.Equal(t, 2, w.add(t0.Add(time.Minute-time.Nanosecond), time.Minute))
	assert.Equal(t, 2, w.add(t0.Add(time.Minute), time.Minute), "an event exactly a window old has left it")

	var full window
	for range maxWindowEvents + 3 {
		full.add(t0, time.Hour)
	}
	assert.Equal(t, maxWindowEvents, full.add(t0, time.Hour), "a window holds enough to exceed the largest count, no more")
}

func TestStatsAdd(t *testing.T) {
	a := Stats{types: map[string]counts{se.SlowRequest: {events: 3, consoleSuppressed: 2}}}
	b := Stats{types: map[string]counts{se.SlowRequest: {events: 1, consoleSuppressed: 1}, se.RecordsDropped: {events: 2, suppressed: 1}}}
	assert.Equal(t, Stats{types: map[string]counts{se.SlowRequest: {events: 4, consoleSuppressed: 3}, se.RecordsDropped: {events: 2, suppressed: 1}}}, a.Add(b))
	assert.Equal(t, counts{events: 3, consoleSuppressed: 2}, a.types[se.SlowRequest], "Add leaves its operands alone")
	assert.Equal(t, a, Stats{}.Add(a))
}

func TestProvisioningFailureRate(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	for i := range 5 {
		r.log(t, "provisioning", time.Duration(i)*time.Second, slog.Bool("success", false), slog.String("operation", "provision_attempt_failed"))
	}
	r.log(t, "provisioning", 6*time.Second, slog.Bool("success", true), slog.Any("error", nil))
	assert.Empty(t, r.out.all(), "5 failures, and a success that does not count")
	r.log(t, "provisioning", 7*time.Second, slog.Any("error", errors.New("no capacity")))
	ev := r.out.all()
	require.Len(t, ev, 1)
	assert.Equal(t, se.HighProvisioningFailureRate, ev[0]["event_type"])
	assert.Equal(t, "critical", ev[0]["severity"])
	assert.Equal(t, slog.LevelError, ev[0]["level"])
	assert.Equal(t, int64(6), ev[0]["count"])
	assert.Equal(t, "no capacity", ev[0]["error"].(error).Error())
}

func TestProvisioningCircuitBreaker(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	r.log(t, "provisioning", 0, slog.Bool("success", false), slog.Any("error", errors.New("503: Circuit breaker is OPEN")))
	r.log(t, "provisioning", time.Second, slog.Bool("success", false), slog.String("code", "circuit_breaker"), slog.String("error", "provisioning_blocked"))
	r.log(t, "provisioning", 2*time.Second, slog.Bool("success", false), slog.String("error", "vpn_disconnected"))
	r.log(t, "provisioning", 3*time.Second, slog.Bool("success", true), slog.String("note", "circuit breaker closed"))
	assert.Equal(t, []string{se.ProvisioningCircuitBreaker, se.ProvisioningCircuitBreaker}, r.out.types())
}

func TestOrchestratorTransitions(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	health := func(at time.Duration, status string) {
		r.log(t, "orchestrator_health", at, slog.String("status", status), slog.String("blocked_reason", "Circuit breaker is open"),
			slog.String("blocked_reason_code", "circuit_breaker"), slog.Int("engine_count", 3))
	}
	health(0, "healthy")
	health(5*time.Second, "degraded")
	health(10*time.Second, "degraded")
	health(15*time.Second, "degraded")
	health(20*time.Second, "healthy")
	health(25*time.Second, "healthy")
	health(30*time.Second, "degraded")
	ev := r.out.all()
	require.Equal(t, []string{se.OrchestratorDegraded, se.OrchestratorRecovered, se.OrchestratorDegraded}, r.out.types())
	assert.Equal(t, "circuit_breaker", ev[0]["blocked_reason_code"])
	assert.Equal(t, "healthy", ev[0]["previous_status"])
	assert.Equal(t, t0.Add(5*time.Second), ev[0]["time"])
	assert.Equal(t, "info", ev[1]["severity"])
	assert.Equal(t, 15*time.Second, ev[1]["degraded_for"])
	assert.Equal(t, "healthy", ev[1]["status"])
}

// TestUnreachableIsNoRecovery: a degraded orchestrator that becomes
// unreachable (a call got no answer) has not recovered; healthy again, it
// has, once; one unreachable from healthy fires orchestrator_degraded.
func TestUnreachableIsNoRecovery(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	r.log(t, "orchestrator_health", 0, slog.String("status", "healthy"))
	r.log(t, "orchestrator_health", time.Second, slog.String("status", "degraded"), slog.String("blocked_reason", "VPN is disconnected"))
	r.log(t, "orchestrator_health", 2*time.Second, slog.String("status", "unreachable"), slog.String("error_class", "connection_refused"))
	r.log(t, "orchestrator_health", 4*time.Second, slog.String("status", "healthy"))
	r.log(t, "orchestrator_health", 5*time.Second, slog.String("status", "unreachable"), slog.String("error_class", "timeout"))
	require.Equal(t, []string{se.OrchestratorDegraded, se.OrchestratorRecovered, se.OrchestratorDegraded}, r.out.types())
	ev := r.out.all()
	assert.Equal(t, "Orchestrator is degraded: VPN is disconnected", ev[0]["description"])
	assert.Equal(t, "Orchestrator is healthy again after 3.0s unreachable", ev[1]["description"])
	assert.Equal(t, 3*time.Second, ev[1]["degraded_for"])
	assert.Equal(t, "Orchestrator is unreachable: timeout", ev[2]["description"])
	assert.Equal(t, "unreachable", ev[2]["status"])
}

func TestCooldownQuietsTheConsoleOnly(t *testing.T) {
	r := newRig(t, Options{Cooldown: 10 * time.Second})
	slow := slog.Duration("duration", 6*time.Second)
	r.log(t, "requests", 0, slow)
	r.log(t, "requests", 3*time.Second, slow)
	r.log(t, "requests", 9*time.Second, slow)
	require.Len(t, r.out.all(), 3, "every slow request reaches the files")
	require.Len(t, r.console.all(), 1, "the console is quiet during the cooldown")
	for _, ev := range r.out.all() {
		assert.NotContains(t, ev, "console_suppressed")
		assert.NotContains(t, ev, "suppressed")
	}
	r.log(t, "requests", 10*time.Second, slow) // the cooldown is over
	out, console := r.out.all(), r.console.all()
	require.Len(t, out, 4)
	require.Len(t, console, 2)
	assert.Equal(t, int64(2), console[1]["console_suppressed"], "two were kept from the console")
	assert.Equal(t, int64(2), out[3]["console_suppressed"], "the files have the same line")
	assert.NotContains(t, console[1], "suppressed", "nothing was kept from the files")
	assert.Equal(t, t0.Add(10*time.Second), console[1]["time"])
	r.log(t, "requests", 21*time.Second, slow)
	console = r.console.all()
	require.Len(t, console, 3)
	assert.NotContains(t, console[2], "console_suppressed", "the count starts again")
	assert.Equal(t, Stats{types: map[string]counts{se.SlowRequest: {events: 5, consoleSuppressed: 2}}}, r.h.Stats())
}

func TestEveryPerRecordEventReachesTheFiles(t *testing.T) {
	rule := func(cat string, rec slog.Record) (Event, bool) {
		if cat != "disconnects" {
			return Event{}, false
		}
		return Event{Type: "engine_timeout", Level: slog.LevelError, Description: rec.Message}, true
	}
	r := newRig(t, Options{Cooldown: time.Hour, Rules: []func(string, slog.Record) (Event, bool){rule},
		ProvisioningFailureRate: "1000/1m"})
	for i := range 9 {
		at := time.Duration(i) * time.Second
		r.log(t, "requests", at, slog.Duration("duration", 6*time.Second), slog.Int("i", i))
		r.log(t, "engine_selection", at, slog.Duration("duration", 3*time.Second), slog.Int("i", i))
		r.log(t, "provisioning", at, slog.Bool("success", false), slog.String("error", "circuit breaker is open"), slog.Int("i", i))
		r.log(t, "disconnects", at, slog.Int("i", i))
	}
	types := []string{se.SlowRequest, se.SlowEngineSelection, se.ProvisioningCircuitBreaker, "engine_timeout"}
	perType := map[string][]map[string]any{}
	for _, ev := range r.out.all() {
		perType[ev["event_type"].(string)] = append(perType[ev["event_type"].(string)], ev)
	}
	for _, typ := range types {
		require.Len(t, perType[typ], 9, typ)
		for i, ev := range perType[typ] {
			assert.Equal(t, t0.Add(time.Duration(i)*time.Second), ev["time"], typ)
		}
	}
	console := map[string]int{}
	for _, typ := range r.console.types() {
		console[typ]++
	}
	assert.Equal(t, map[string]int{se.SlowRequest: 1, se.SlowEngineSelection: 1, se.ProvisioningCircuitBreaker: 1, "engine_timeout": 1}, console)
	want := Stats{types: map[string]counts{}}
	for _, typ := range types {
		want.types[typ] = counts{events: 9, consoleSuppressed: 8}
	}
	assert.Equal(t, want, r.h.Stats())
}

func TestWindowedEventsRespectTheCooldown(t *testing.T) {
	r := newRig(t, Options{Cooldown: 10 * time.Second, SlowRequestRate: "2/1m",
		Cooldowns: map[string]time.Duration{se.SlowRequest: -1}})
	slow := slog.Duration("duration", 6*time.Second)
	rates := func(c *capture) []map[string]any {
		var out []map[string]any
		for _, ev := range c.all() {
			if ev["event_type"] == se.HighSlowRequestRate {
				out = append(out, ev)
			}
		}
		return out
	}
	for _, at := range []time.Duration{0, 1, 2, 3, 4} {
		r.log(t, "requests", at*time.Second, slow) // the rate fires at 2s, is held back at 3s and 4s
	}
	require.Len(t, rates(r.out), 1, "held back from the files too")
	require.Len(t, rates(r.console), 1)
	r.log(t, "requests", 12*time.Second, slow)
	out := rates(r.out)
	require.Len(t, out, 2)
	assert.Equal(t, int64(6), out[1]["count"])
	assert.Equal(t, int64(2), out[1]["suppressed"], "two were not written")
	assert.NotContains(t, out[1], "console_suppressed")
	assert.Equal(t, rates(r.out), rates(r.console))
	r.log(t, "requests", 13*time.Second, slow) // held back: Close reports it
	assert.Equal(t, counts{events: 5, suppressed: 3}, r.h.Stats().types[se.HighSlowRequestRate])
	assert.Equal(t, counts{events: 7}, r.h.Stats().types[se.SlowRequest])

	require.NoError(t, r.h.Close())
	last := r.out.all()[len(r.out.all())-1]
	assert.Equal(t, se.StressSuppressed, last["event_type"])
	assert.Equal(t, map[string]any{se.HighSlowRequestRate: int64(1)}, last[se.SuppressedKey])
	assert.NotContains(t, last, se.ConsoleSuppressedKey)
}

func TestCloseWritesWhatWasHeldBack(t *testing.T) {
	closedAt := t0.Add(time.Hour)
	r := newRig(t, Options{Cooldown: time.Minute, SlowRequestRate: "1/1m",
		Now: func() time.Time { return closedAt }})
	slow := slog.Duration("duration", 6*time.Second)
	for i := range 4 {
		r.log(t, "requests", time.Duration(i)*time.Second, slow)
	}
	r.log(t, "streams", 0) // fires nothing
	before := len(r.out.all())
	require.Equal(t, 4+1, before, "four slow requests and one rate event")

	require.NoError(t, r.h.Close())
	out, console := r.out.all(), r.console.all()
	require.Len(t, out, before+1)
	last := out[len(out)-1]
	assert.Equal(t, last, console[len(console)-1], "the console is told too")
	assert.Equal(t, se.StressSuppressed, last["msg"])
	assert.Equal(t, se.StressSuppressed, last["event_type"])
	assert.Equal(t, "info", last["severity"])
	assert.Equal(t, slog.LevelInfo, last["level"])
	assert.Equal(t, "stress", last["category"])
	assert.Equal(t, closedAt, last["time"])
	assert.Equal(t, map[string]any{se.SlowRequest: int64(3)}, last[se.ConsoleSuppressedKey])
	assert.Equal(t, map[string]any{se.HighSlowRequestRate: int64(2)}, last[se.SuppressedKey])
	assert.Equal(t, "Held back by the cooldown since the last event of their type, "+
		"kept from the console (each is a line of its own in the files): 3 slow_request; "+
		"not written at all: 2 high_slow_request_rate", last["description"])

	// The counts on the lines add up to the totals.
	stats := r.h.Stats()
	assert.Equal(t, Stats{types: map[string]counts{se.SlowRequest: {events: 4, consoleSuppressed: 3}, se.HighSlowRequestRate: {events: 3, suppressed: 2}}}, stats)

	// Closed: idempotent, and nothing is observed any more.
	require.NoError(t, r.h.Close())
	r.log(t, "requests", time.Hour, slow)
	assert.Len(t, r.out.all(), before+1)
	assert.Equal(t, stats, r.h.Stats())
}

func TestCloseWithNothingHeldBackWritesNothing(t *testing.T) {
	r := newRig(t, Options{Cooldown: time.Minute})
	r.log(t, "requests", 0, slog.Duration("duration", 6*time.Second))
	r.log(t, "requests", time.Minute, slog.Duration("duration", 6*time.Second)) // after the cooldown: shown, console_suppressed 0
	require.NoError(t, r.h.Close())
	assert.Equal(t, []string{se.SlowRequest, se.SlowRequest}, r.out.types())
	assert.Equal(t, []string{se.SlowRequest, se.SlowRequest}, r.console.types())
}

func TestOrchestratorTransitionsAreNeverQuietedByDefault(t *testing.T) {
	r := newRig(t, Options{Cooldown: time.Hour})
	for i, status := range []string{"healthy", "degraded", "healthy", "degraded", "healthy"} {
		r.log(t, "orchestrator_health", time.Duration(i)*time.Second, slog.String("status", status))
	}
	want := []string{se.OrchestratorDegraded, se.OrchestratorRecovered, se.OrchestratorDegraded, se.OrchestratorRecovered}
	assert.Equal(t, want, r.out.types())
	assert.Equal(t, want, r.console.types(), "the console always shows the orchestrator's current state")

	// A cooldown set for them quiets the console only: they are per-record.
	r = newRig(t, Options{Cooldowns: map[string]time.Duration{se.OrchestratorDegraded: time.Hour, se.OrchestratorRecovered: time.Hour}})
	for i, status := range []string{"healthy", "degraded", "healthy", "degraded", "healthy"} {
		r.log(t, "orchestrator_health", time.Duration(i)*time.Second, slog.String("status", status))
	}
	assert.Equal(t, want, r.out.types())
	assert.Equal(t, want[:2], r.console.types())
	assert.Equal(t, counts{events: 2, consoleSuppressed: 1}, r.h.Stats().types[se.OrchestratorDegraded])
}

// panicking is a handler whose Handle panics.
type panicking struct{ capture }

func (p *panicking) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *panicking) Handle(context.Context, slog.Record) error {
	panic("broken console")
}

func TestBrokenConsoleDoesNotKeepEventsFromTheFiles(t *testing.T) {
	out := newCapture()
	h, err := New(Options{Files: out, Console: &panicking{*newCapture()}, Cooldown: -1})
	require.NoError(t, err)
	r := &rig{h: h, out: out}
	r.log(t, "requests", 0, slog.Duration("duration", time.Minute))
	r.log(t, "requests", time.Second, slog.Duration("duration", time.Minute))
	assert.Equal(t, []string{se.SlowRequest, se.SlowRequest}, out.types())
}

func TestConsoleOnly(t *testing.T) {
	console := newCapture()
	h, err := New(Options{Console: console, Cooldown: time.Hour})
	require.NoError(t, err)
	r := &rig{h: h, out: console}
	r.log(t, "requests", 0, slog.Duration("duration", time.Minute))
	r.log(t, "requests", time.Second, slog.Duration("duration", time.Minute))
	assert.Equal(t, []string{se.SlowRequest}, console.types())
	require.NoError(t, h.Close())
	assert.Equal(t, []string{se.SlowRequest, se.StressSuppressed}, console.types())
}

func TestStatsLogValue(t *testing.T) {
	st := Stats{types: map[string]counts{se.SlowRequest: {events: 8, consoleSuppressed: 7}, se.HighSlowRequestRate: {events: 2, suppressed: 1}}}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("end", "stress_events", st)
	assert.Equal(t, `{"level":"INFO","msg":"end","stress_events":{"high_slow_request_rate":{"events":2,"suppressed":1,"console_suppressed":0},`+
		`"slow_request":{"events":8,"suppressed":0,"console_suppressed":7}}}`+"\n", buf.String())
}

func TestRecordsDropped(t *testing.T) {
	dropped := map[string]uint64{"requests": 7, "streams": 0}
	var mu sync.Mutex
	r := newRig(t, Options{Dropped: func() map[string]uint64 {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]uint64{}
		for k, v := range dropped {
			out[k] = v
		}
		return out
	}, Cooldowns: map[string]time.Duration{se.RecordsDropped: -1}})
	r.log(t, "requests", 0)
	assert.Empty(t, r.out.all(), "no report before DropsHappened")
	r.h.DropsHappened()
	r.log(t, "requests", time.Second)
	ev := r.out.all()
	require.Len(t, ev, 1)
	assert.Equal(t, se.RecordsDropped, ev[0]["event_type"])
	assert.Equal(t, uint64(7), ev[0]["count"])
	assert.Equal(t, map[string]any{"requests": uint64(7)}, ev[0]["categories"])

	mu.Lock()
	dropped["requests"], dropped["streams"] = 9, 4
	mu.Unlock()
	r.h.DropsHappened()
	r.log(t, "streams", 2*time.Second)
	ev = r.out.all()
	require.Len(t, ev, 2)
	assert.Equal(t, uint64(6), ev[1]["count"], "only what was dropped since the last report")
	assert.Equal(t, map[string]any{"requests": uint64(2), "streams": uint64(4)}, ev[1]["categories"])
}

func TestOwnEventsAreNotObserved(t *testing.T) {
	r := newRig(t, Options{Rules: []func(string, slog.Record) (Event, bool){func(cat string, _ slog.Record) (Event, bool) {
		return Event{Type: "saw_" + cat, Level: slog.LevelInfo}, true
	}}, Cooldown: -1})
	r.log(t, "stress", 0, slog.Duration("duration", time.Hour))
	r.log(t, "requests", 0)
	assert.Equal(t, []string{"saw_requests"}, r.out.types())
}

func TestUserRule(t *testing.T) {
	var seen []string
	r := newRig(t, Options{Rules: []func(string, slog.Record) (Event, bool){func(cat string, rec slog.Record) (Event, bool) {
		var keys []string
		reason, stream := "", ""
		rec.Attrs(func(a slog.Attr) bool {
			keys = append(keys, a.Key)
			switch a.Key {
			case "reason":
				reason = a.Value.String()
			case "stream_id":
				stream = a.Value.String()
			}
			return true
		})
		seen = append(seen, strings.Join(keys, ","))
		if cat != "disconnects" || reason != "timeout" {
			return Event{}, false
		}
		return Event{Type: "engine_timeout", Level: slog.LevelError, Description: "engine stalled",
			Attrs: []slog.Attr{slog.String("stream_id", stream)}}, true
	}}})
	r.log(t, "disconnects", 0, slog.String("reason", "completed"))
	h := r.h.WithAttrs([]slog.Attr{slog.String("category", "disconnects"), slog.String("stream_id", "abc|1")})
	rec := slog.NewRecord(t0.Add(time.Second), slog.LevelDebug, "disconnect", 0)
	rec.AddAttrs(slog.String("reason", "timeout"))
	require.NoError(t, h.Handle(context.Background(), rec))
	ev := r.out.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "engine_timeout", ev[0]["event_type"])
	assert.Equal(t, "critical", ev[0]["severity"])
	assert.Equal(t, slog.LevelError, ev[0]["level"])
	assert.Equal(t, "abc|1", ev[0]["stream_id"], "a rule sees the attributes bound with WithAttrs")
	assert.Equal(t, []string{"category,reason", "category,stream_id,reason"}, seen, "bound first, then the record's")
}

func TestCategoryFromTheRecordAndBoundAttrs(t *testing.T) {
	r := newRig(t, Options{})
	h := r.h.WithAttrs([]slog.Attr{slog.String("path", "/bound")})
	rec := slog.NewRecord(t0, slog.LevelDebug, "m", 0)
	rec.AddAttrs(slog.String("category", "requests"), slog.Duration("duration", time.Minute))
	require.NoError(t, h.Handle(context.Background(), rec))
	ev := r.out.all()
	require.Len(t, ev, 1)
	assert.Equal(t, "/bound", ev[0]["path"], "details come from bound attrs too")
}

func TestEmitLevelIsRespected(t *testing.T) {
	out := newCapture()
	out.level = slog.LevelError
	h, err := New(Options{Files: out, Console: out})
	require.NoError(t, err)
	r := &rig{h: h, out: out}
	r.log(t, "requests", 0, slog.Duration("duration", time.Minute))
	assert.Empty(t, r.out.all(), "a warning is not emitted to a handler at Error")
}

func TestConcurrentObservation(t *testing.T) {
	r := newRig(t, Options{Cooldown: -1, SlowRequestRate: "65535/1h"})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				r.log(t, "requests", time.Duration(g*500+i)*time.Millisecond, slog.Duration("duration", 6*time.Second))
				r.log(t, "orchestrator_health", 0, slog.String("status", []string{"healthy", "degraded"}[i%2]))
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, typ := range r.out.types() {
		if typ == se.SlowRequest {
			n++
		}
	}
	assert.Equal(t, 4000, n, "every slow request fires when there is no cooldown")
}

func TestNothingFiredAllocatesNothing(t *testing.T) {
	r := newRig(t, Options{})
	h := r.h.WithAttrs([]slog.Attr{slog.String("category", "requests")})
	rec := slog.NewRecord(t0, slog.LevelDebug, "request", 0)
	rec.AddAttrs(slog.String("method", "GET"), slog.String("path", "/ace/getstream"), slog.Duration("duration", time.Second),
		slog.Int("status_code", 200), slog.String("ace_id", "abc"))
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.Handle(ctx, rec) }))
}

func TestOptionsValidation(t *testing.T) {
	_, err := New(Options{})
	assert.ErrorContains(t, err, "Options.Files or Options.Console is required")
	_, err = New(Options{Files: newCapture(), SlowRequestRate: "-1/1m"})
	assert.ErrorContains(t, err, "SlowRequestRate")
	_, err = New(Options{Files: newCapture(), ProvisioningFailureRate: "65536/1m"})
	assert.ErrorContains(t, err, `ProvisioningFailureRate "65536/1m": want a count of 1 to 65535`)
}

func TestSuppressedDropReportsAreCarriedOver(t *testing.T) {
	var n uint64
	r := newRig(t, Options{Cooldown: 10 * time.Second, Dropped: func() map[string]uint64 { return map[string]uint64{"requests": n} }})
	n = 3
	r.h.DropsHappened()
	r.log(t, "requests", 0)
	n = 5
	r.h.DropsHappened()
	r.log(t, "requests", time.Second) // within the cooldown: suppressed
	n = 6
	r.h.DropsHappened()
	r.log(t, "requests", 11*time.Second)
	ev := r.out.all()
	require.Len(t, ev, 2)
	assert.Equal(t, uint64(3), ev[0]["count"])
	assert.Equal(t, uint64(3), ev[1]["count"], "the 2 of the suppressed report and 1 more")
	assert.Equal(t, int64(1), ev[1]["suppressed"])
}

// TestCountsAddUp checks the cooldown's bookkeeping on random traffic:
// Files has every event of a type but the suppressed ones, the Console
// also lacks the console_suppressed ones, and the counts on the lines
// (Close's included) add up to Stats.
func TestCountsAddUp(t *testing.T) {
	var anySuppressed, anyConsoleSuppressed bool
	for seed := int64(1); seed <= 20; seed++ {
		rnd := rand.New(rand.NewSource(seed))
		r := newRig(t, Options{
			Cooldown:                time.Duration(rnd.Intn(20)) * time.Second,
			SlowRequestRate:         fmt.Sprintf("%d/30s", 1+rnd.Intn(5)),
			ProvisioningFailureRate: fmt.Sprintf("%d/30s", 1+rnd.Intn(5)),
			Cooldowns:               map[string]time.Duration{se.OrchestratorDegraded: time.Duration(rnd.Intn(3)) * 10 * time.Second},
		})
		at := time.Duration(0)
		for range 300 {
			at += time.Duration(rnd.Intn(3000)) * time.Millisecond
			switch rnd.Intn(4) {
			case 0:
				r.log(t, "requests", at, slog.Duration("duration", time.Duration(rnd.Intn(10))*time.Second))
			case 1:
				r.log(t, "engine_selection", at, slog.Duration("duration", time.Duration(rnd.Intn(4))*time.Second))
			case 2:
				r.log(t, "provisioning", at, slog.Bool("success", rnd.Intn(3) == 0), slog.String("code", []string{"", "circuit_breaker"}[rnd.Intn(2)]))
			case 3:
				r.log(t, "orchestrator_health", at, slog.String("status", []string{"healthy", "degraded"}[rnd.Intn(2)]))
			}
		}
		require.NoError(t, r.h.Close())

		count := func(c *capture) (lines map[string]uint64, suppressed, consoleSuppressed map[string]int64) {
			lines, suppressed, consoleSuppressed = map[string]uint64{}, map[string]int64{}, map[string]int64{}
			for _, ev := range c.all() {
				typ := ev["event_type"].(string)
				if typ == se.StressSuppressed {
					for k, v := range ev {
						if g, ok := v.(map[string]any); ok && k == se.SuppressedKey {
							for typ, n := range g {
								suppressed[typ] += n.(int64)
							}
						} else if ok && k == se.ConsoleSuppressedKey {
							for typ, n := range g {
								consoleSuppressed[typ] += n.(int64)
							}
						}
					}
					continue
				}
				lines[typ]++
				if n, ok := ev[se.SuppressedKey].(int64); ok {
					suppressed[typ] += n
				}
				if n, ok := ev[se.ConsoleSuppressedKey].(int64); ok {
					consoleSuppressed[typ] += n
				}
			}
			return lines, suppressed, consoleSuppressed
		}
		fileLines, fileSuppressed, _ := count(r.out)
		consoleLines, consoleSuppressed, consoleConsoleSuppressed := count(r.console)
		stats := r.h.Stats()
		require.NotEmpty(t, stats.types)
		for typ, st := range stats.types {
			assert.Equal(t, st.events-st.suppressed, fileLines[typ], "seed %d %s: lines in Files", seed, typ)
			assert.Equal(t, st.events-st.suppressed-st.consoleSuppressed, consoleLines[typ], "seed %d %s: lines on the Console", seed, typ)
			assert.Equal(t, int64(st.suppressed), fileSuppressed[typ], "seed %d %s: suppressed on the lines", seed, typ)
			assert.Equal(t, int64(st.suppressed), consoleSuppressed[typ], "seed %d %s", seed, typ)
			assert.Equal(t, int64(st.consoleSuppressed), consoleConsoleSuppressed[typ], "seed %d %s: console_suppressed on the lines", seed, typ)
			anySuppressed = anySuppressed || st.suppressed > 0
			anyConsoleSuppressed = anyConsoleSuppressed || st.consoleSuppressed > 0
			if windowed(typ) {
				assert.Zero(t, st.consoleSuppressed, "seed %d %s", seed, typ)
			} else {
				assert.Zero(t, st.suppressed, "seed %d %s: a per-record event is always written", seed, typ)
			}
		}
	}
	assert.True(t, anySuppressed && anyConsoleSuppressed, "the traffic made the cooldown hold events back")
}

// TestSummaryRecordsAreNotCountedAgain: a record marked summary=true (a
// retry loop's final provision_failed, after its attempts were logged one
// by one) counts toward no window and fires no circuit-breaker event: the
// window counts real failures.
func TestSummaryRecordsAreNotCountedAgain(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	cb := slog.String("error", "provisioning blocked (circuit_breaker): Circuit breaker is open")
	for attempt := 1; attempt <= 3; attempt++ {
		r.log(t, "provisioning", time.Duration(attempt)*time.Second, slog.String("operation", "provision_attempt_failed"),
			slog.Bool("success", false), cb, slog.Int("retry_count", attempt))
	}
	r.log(t, "provisioning", 4*time.Second, slog.String("operation", "provision_failed"), slog.Bool("success", false), cb,
		slog.Int("retry_count", 3), slog.Bool(se.SummaryKey, true))
	assert.Equal(t, []string{se.ProvisioningCircuitBreaker, se.ProvisioningCircuitBreaker, se.ProvisioningCircuitBreaker}, r.out.types(),
		"one per attempt, none for the summary")
	// Three more real failures make six: over the default 5 per minute.
	for attempt := 1; attempt <= 3; attempt++ {
		r.log(t, "provisioning", time.Duration(4+attempt)*time.Second, slog.Bool("success", false), slog.String("operation", "provision_attempt_failed"))
	}
	var rate []map[string]any
	for _, e := range r.out.all() {
		if e["event_type"] == se.HighProvisioningFailureRate {
			rate = append(rate, e)
		}
	}
	require.Len(t, rate, 1, "the 6th real failure, not the 5th record plus a summary")
	assert.EqualValues(t, 6, rate[0]["count"])
}

// TestRecordsStampedInTheFutureDoNotMuteEvents is break 4 of the second
// trust round: a record stamped an hour ahead (or a wall clock stepped
// back) set the cooldowns and windows an hour ahead, muting the console's
// events and the windowed rates for that hour. They run on the clock.
func TestRecordsStampedInTheFutureDoNotMuteEvents(t *testing.T) {
	r := newRig(t, Options{Cooldown: 10 * time.Second, SlowRequestRate: "2/1m"})
	slow := slog.Duration("duration", 6*time.Second)
	stamped := func(clock, stamp time.Duration) {
		r.mu.Lock()
		r.clock = t0.Add(clock)
		r.mu.Unlock()
		rec := slog.NewRecord(t0.Add(stamp), slog.LevelDebug, "request", 0)
		rec.AddAttrs(slow)
		require.NoError(t, r.h.WithAttrs([]slog.Attr{slog.String("category", "requests")}).Handle(context.Background(), rec))
	}
	stamped(0, time.Hour) // an hour ahead
	stamped(11*time.Second, 11*time.Second)
	stamped(22*time.Second, 22*time.Second) // the third slow request in a minute
	var console []string
	for _, ev := range r.console.all() {
		console = append(console, ev["event_type"].(string))
	}
	assert.Equal(t, []string{se.SlowRequest, se.SlowRequest, se.SlowRequest, se.HighSlowRequestRate}, console,
		"each cooldown ended 10s after its event by the clock; the rate counted three in a minute")
	assert.Equal(t, t0.Add(time.Hour), r.console.all()[0]["time"], "an event keeps its record's time")
}

// TestSlowRequestIsASlowStart: a requests record with a ttfb is slow by
// it, not by its duration: an hour-long stream whose first byte came at
// once fires nothing, one that waited 6s fires one slow_request with both
// figures; a requests record without a ttfb (a program's own LogRequest)
// is still slow by its duration. The rate counts slow starts only.
func TestSlowRequestIsASlowStart(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	for i := range 20 { // twenty long streams, each started at once
		r.log(t, "requests", time.Duration(i)*time.Second, slog.Duration("duration", time.Hour), slog.Duration("ttfb", 20*time.Millisecond))
	}
	assert.Empty(t, r.out.all(), "a long stream is no slow request, and twenty are no rate")

	r.log(t, "requests", 30*time.Second, slog.String("path", "/ace/getstream"), slog.Duration("duration", time.Minute), slog.Duration("ttfb", 6*time.Second))
	ev := r.out.all()
	require.Len(t, ev, 1)
	assert.Equal(t, se.SlowRequest, ev[0]["event_type"])
	assert.Equal(t, 6*time.Second, ev[0]["ttfb"])
	assert.Equal(t, time.Minute, ev[0]["duration"])
	assert.Equal(t, 5*time.Second, ev[0]["threshold"])
	assert.Equal(t, "Request waited 6.00s for its first byte (threshold 5s), then lasted 60.00s in all", ev[0]["description"])

	r.log(t, "requests", 31*time.Second, slog.Duration("duration", 2*time.Second), slog.Duration("ttfb", 5*time.Second))
	assert.Len(t, r.out.all(), 1, "exactly the threshold is not slow")
	r.log(t, "requests", 32*time.Second, slog.Duration("duration", 6*time.Second))
	require.Len(t, r.out.all(), 2, "without a ttfb, the duration")
	assert.Equal(t, "Request took 6.00s (threshold 5s)", r.out.all()[1]["description"])
	assert.NotContains(t, r.out.all()[1], "ttfb")

	for i := range 9 { // with the two above, eleven slow starts in a minute
		r.log(t, "requests", 40*time.Second+time.Duration(i)*time.Second, slog.Duration("duration", time.Hour), slog.Duration("ttfb", 7*time.Second))
	}
	last := r.out.all()[len(r.out.all())-1]
	require.Equal(t, se.HighSlowRequestRate, last["event_type"])
	assert.Equal(t, int64(11), last["count"])
	assert.Equal(t, "11 slow starts (first byte after more than 5s) in the last 1m0s", last["description"])
}

// TestStreamStalled: a streams line stream_stalled fires stream_stalled at
// Warn with the stream, its engine and how long; other streams lines, and
// a stream_stalled line of another category, fire nothing.
func TestStreamStalled(t *testing.T) {
	r := newRig(t, Options{Cooldowns: noCooldown()})
	r.log(t, "streams", 0, slog.String("event_type", "stream_started"), slog.String("stream_id", "abc|s1"))
	r.log(t, "streams", 0, slog.String("event_type", se.StreamResumed), slog.Duration("stall", 8*time.Second))
	r.log(t, "disconnects", 0, slog.String("event_type", se.StreamStalled), slog.Duration("stall", 8*time.Second))
	assert.Empty(t, r.out.all())

	r.log(t, "streams", time.Second, slog.String("event_type", se.StreamStalled), slog.String("stream_id", "abc|s1"), slog.String("ace_id", "abc"),
		slog.Duration("stall", 8*time.Second), slog.Duration("threshold", 5*time.Second), slog.String("waiting_on", "engine"),
		slog.String("engine_host", "10.0.0.7"), slog.Int("engine_port", 6878), slog.String("container_id", "0acef00d0001"))
	ev := r.out.all()
	require.Len(t, ev, 1)
	e := ev[0]
	assert.Equal(t, se.StreamStalled, e["event_type"])
	assert.Equal(t, slog.LevelWarn, e["level"])
	assert.Equal(t, "abc|s1", e["stream_id"])
	assert.Equal(t, "10.0.0.7", e["engine_host"])
	assert.Equal(t, "0acef00d0001", e["container_id"])
	assert.Equal(t, 8*time.Second, e["stall"])
	assert.Equal(t, 5*time.Second, e["threshold"])
	assert.Equal(t, "Stream stalled: no bytes for 8.00s (threshold 5s), waiting on the engine", e["description"])
}

// TestOnEventSeesWhatTheFilesGet: OnEvent is called, with the record's
// context, for every event the files get: per-record ones within their
// cooldown too, windowed ones only when the cooldown lets them through,
// and never stress_suppressed.
func TestOnEventSeesWhatTheFilesGet(t *testing.T) {
	type key struct{}
	var got []string
	var ctxOK = true
	r := newRig(t, Options{OnEvent: func(ctx context.Context, e Event) {
		got = append(got, e.Type)
		ctxOK = ctxOK && ctx.Value(key{}) == "request"
	}})
	ctx := context.WithValue(context.Background(), key{}, "request")
	h := r.h.WithAttrs([]slog.Attr{slog.String("category", "requests")})
	for i := range 12 {
		r.mu.Lock()
		r.clock = t0.Add(time.Duration(i) * time.Second)
		r.mu.Unlock()
		rec := slog.NewRecord(t0, slog.LevelDebug, "request", 0)
		rec.AddAttrs(slog.Duration("ttfb", 6*time.Second))
		require.NoError(t, h.Handle(ctx, rec))
	}
	require.NoError(t, r.h.Close())
	var files []string
	for _, e := range r.out.all() {
		if e["event_type"] != se.StressSuppressed {
			files = append(files, e["event_type"].(string))
		}
	}
	assert.Equal(t, files, got)
	assert.Equal(t, 12, countOf(got, se.SlowRequest), "every slow_request, the console's cooldown or not")
	assert.Equal(t, 1, countOf(got, se.HighSlowRequestRate), "the 11th; the 12th is held back by the cooldown")
	assert.True(t, ctxOK, "called with the record's context")
}

func countOf(list []string, s string) (n int) {
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
