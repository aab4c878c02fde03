package integration

import (
	"cmp"
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/reqid"
)

// HealthMonitor polls the orchestrator's status and logs each reading to
// "orchestrator_health" (an unreachable one as "unreachable", with the
// error's class and how long the orchestrator has not been reached). The
// Client's other calls write readings too: "unreachable" for each call that
// got no answer, and "reachable" for the first answer after them, so that
// stress detection tells an outage and its end (orchestrator_degraded and
// orchestrator_recovered, once each) without a monitor.
type HealthMonitor struct {
	client *Client
	last   atomic.Pointer[HealthReading]
	stop   context.CancelFunc
	done   chan struct{}
}

// HealthReading is one poll's outcome.
type HealthReading struct {
	At     time.Time
	Status *Status // nil when the poll failed
	Err    error
}

// MonitorHealth starts polling now and every interval (5s when zero or
// less) until Stop is called or ctx is done.
func (c *Client) MonitorHealth(ctx context.Context, interval time.Duration) *HealthMonitor {
	interval = cmp.Or(max(interval, 0), 5*time.Second)
	ctx, cancel := context.WithCancel(ctx)
	m := &HealthMonitor{client: c, stop: cancel, done: make(chan struct{})}
	go m.run(ctx, interval)
	return m
}

func (m *HealthMonitor) run(ctx context.Context, interval time.Duration) {
	defer close(m.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	reported := false
	for { // a poll that panics (a broken transport, say) fails with the panic, reported once
		if p := safego.Call(func() { m.poll(ctx) }); p != nil {
			m.last.Store(&HealthReading{At: time.Now(), Err: p})
			if !reported {
				reported = true
				_ = safego.Call(func() {
					m.client.log().Error("health monitor: a poll panicked; recovered, polling goes on", "error", p)
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollKey marks a health poll's context: its reading says whether the
// orchestrator was reached, and how it is.
type pollKey struct{}

func (m *HealthMonitor) poll(ctx context.Context) {
	ctx = context.WithValue(reqid.With(ctx, reqid.New()), pollKey{}, true)
	r := HealthReading{At: time.Now(), Status: &Status{}}
	if r.Err = m.client.do(ctx, http.MethodGet, "/orchestrator/status", nil, r.Status, false); r.Err != nil {
		r.Status = nil
	}
	log := m.client.log()
	switch {
	case r.Err == nil:
		log.LogOrchestratorHealth(ctx, r.Status.health())
	case ctx.Err() != nil:
		return // stopping: not the orchestrator's fault
	default: // do wrote the reading when the orchestrator was not reached (logUnreachable)
		log.LogError(ctx, "health_monitor", "orchestrator_status", r.Err)
	}
	m.last.Store(&r)
}

// Last returns the latest reading, or nil before the first.
func (m *HealthMonitor) Last() *HealthReading { return m.last.Load() }

// Stop stops polling and waits for the poller to end. It is idempotent.
func (m *HealthMonitor) Stop() {
	m.stop()
	<-m.done
}

// Status is /orchestrator/status; Engines, Streams and Capacity may be nil.
type Status struct {
	Status       string                                            `json:"status"`
	Engines      *struct{ Total, Running, Healthy, Unhealthy int } `json:"engines"`
	Streams      *struct{ Active, Total int }                      `json:"streams"`
	Capacity     *struct{ Total, Used, Available int }             `json:"capacity"`
	VPN          struct{ Enabled, Connected bool }                 `json:"vpn"`
	Provisioning struct {
		CanProvision         bool   `json:"can_provision"`
		CircuitBreakerState  string `json:"circuit_breaker_state"`
		BlockedReason        string `json:"blocked_reason"`
		BlockedReasonDetails *struct {
			Code               string  `json:"code"`
			Message            string  `json:"message"`
			RecoveryETASeconds float64 `json:"recovery_eta_seconds"`
			CanRetry           bool    `json:"can_retry"`
			ShouldWait         bool    `json:"should_wait"`
		} `json:"blocked_reason_details"`
	} `json:"provisioning"`
}

// health maps a status onto LogOrchestratorHealth's record; missing is unknown.
func (s *Status) health() acestream.OrchestratorHealth {
	h := acestream.OrchestratorHealth{Status: s.Status, CanProvision: s.Provisioning.CanProvision,
		BlockedReason: s.Provisioning.BlockedReason, VPNConnected: s.VPN.Connected}
	if c := s.Capacity; c != nil {
		h.CapacityTotal, h.CapacityUsed, h.CapacityAvailable = acestream.Known(c.Total), acestream.Known(c.Used), acestream.Known(c.Available)
	}
	if s.Engines != nil {
		h.EngineCount = acestream.Known(s.Engines.Total)
	}
	if s.Streams != nil {
		h.StreamCount = acestream.Known(s.Streams.Active)
	}
	if d := s.Provisioning.BlockedReasonDetails; d != nil {
		h.BlockedReasonCode, h.RecoveryETASeconds = d.Code, int(d.RecoveryETASeconds)
		h.BlockedReason = cmp.Or(h.BlockedReason, d.Message)
	}
	return h
}
