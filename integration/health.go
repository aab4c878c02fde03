package integration

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/reqid"
)

// HealthMonitor polls the orchestrator's status on an interval and logs
// each reading to "orchestrator_health" (an unreachable orchestrator as
// status "unreachable", with the error in "errors"). Last tells the proxy
// the latest reading.
type HealthMonitor struct {
	client   *Client
	interval time.Duration
	last     atomic.Pointer[HealthReading]
	stop     context.CancelFunc
	done     chan struct{}
	once     sync.Once
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
	if interval <= 0 {
		interval = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	m := &HealthMonitor{client: c, interval: interval, stop: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

func (m *HealthMonitor) run(ctx context.Context) {
	defer close(m.done)
	t := time.NewTicker(m.interval)
	defer t.Stop()
	reported := false
	for {
		// A panic in a poll (a broken transport, say) must not take the
		// process down: the poll fails with it, it is reported once, and
		// polling goes on.
		if p := safego.Call(func() { m.Poll(ctx) }); p != nil {
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

// Poll reads the status once, logs it and records it as the last reading.
func (m *HealthMonitor) Poll(ctx context.Context) HealthReading {
	ctx = reqid.With(ctx, reqid.New())
	start := time.Now()
	s, err := m.client.Status(ctx)
	r := HealthReading{At: start, Status: s, Err: err}
	if ctx.Err() != nil && err != nil {
		return r // stopping: not the orchestrator's fault
	}
	log := m.client.log()
	if err != nil {
		// Only what is known: the status the proxy saw, and why.
		log.With(category.Key, category.OrchestratorHealth).LogAttrs(ctx, slog.LevelDebug, "orchestrator_health",
			slog.String("status", "unreachable"), slog.Any("error", err))
		log.LogError(ctx, "health_monitor", "orchestrator_status", err)
	} else {
		log.LogOrchestratorHealth(ctx, s.Health())
	}
	m.last.Store(&r)
	return r
}

// Last returns the latest reading, or nil before the first.
func (m *HealthMonitor) Last() *HealthReading { return m.last.Load() }

// Stop stops polling and waits for the poller to end. It is idempotent.
func (m *HealthMonitor) Stop() {
	m.once.Do(m.stop)
	<-m.done
}
