package demoproxy

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/proxydebug/debugmode/reqid"
)

// Orchestrator is a fake engine orchestrator: the parts of its API the proxy
// uses, with switches for the trouble a test or the demo wants (a circuit
// breaker, a degraded status, slow answers, the legacy error form).
type Orchestrator struct {
	// EngineHost and EnginePort are where provisioned engines live (the
	// fake engine).
	EngineHost string
	EnginePort int

	mu             sync.Mutex
	engines        []engine
	streams        map[string]map[string]bool // container -> stream IDs started
	breakerOpen    bool
	breakerETA     int       // seconds from its opening to its expected recovery
	breakerUntil   time.Time // its expected recovery: the ETA counts down to it
	vpnDown        bool
	legacyErrors   bool
	provisionDelay time.Duration
	nextID         int
	received       []Received

	// The debug files (nil: none) and what they follow.
	log              *orchLog
	breakerThreshold int           // provisioning failures in a row that open the breaker (0: only SetCircuitBreaker does)
	failures         int           // provisioning failures in a row
	breakerOpened    chan struct{} // closed when the breaker opens
	slowProvisioning time.Duration
	lastCycle        time.Time
}

// engine is an engine as GET /engines describes it (the orchestrator's
// EngineState).
type engine struct {
	ContainerID     string            `json:"container_id"`
	ContainerName   string            `json:"container_name"`
	Host            string            `json:"host"`
	Port            int               `json:"port"`
	Labels          map[string]string `json:"labels"`
	Forwarded       bool              `json:"forwarded"`
	FirstSeen       string            `json:"first_seen"`
	LastSeen        string            `json:"last_seen"`
	Streams         []string          `json:"streams"`
	Health          string            `json:"health_status"`
	LastHealthCheck *string           `json:"last_health_check"`
	LastStreamUsage *string           `json:"last_stream_usage"`
}

// Received is one request the orchestrator got, with the IDs it carried.
type Received struct {
	Method, Path string
	RequestID    string
	Traceparent  string
	Body         map[string]any
}

// NewOrchestrator returns a fake orchestrator with no engines.
func NewOrchestrator(engineHost string, enginePort int) *Orchestrator {
	return &Orchestrator{EngineHost: engineHost, EnginePort: enginePort, streams: make(map[string]map[string]bool),
		breakerOpened: make(chan struct{}), slowProvisioning: 2 * time.Second}
}

// WriteDebugFiles makes the orchestrator write debug files into dir, in the
// real orchestrator's format (see orchLog): provisioning, circuit_breaker,
// vpn, health, performance, stress and session. Its provisioning lines also
// carry the request_id the proxy forwarded (X-Request-ID), the shared ID
// the orchestrator's own docs name as the next step. Call CloseDebugFiles
// when done.
func (o *Orchestrator) WriteDebugFiles(dir string) error {
	l, err := newOrchLog(dir, time.Now)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.log = l
	o.mu.Unlock()
	return nil
}

// CloseDebugFiles flushes and closes the debug files; it returns the first
// error writing them met.
func (o *Orchestrator) CloseDebugFiles() error {
	o.mu.Lock()
	l := o.log
	o.log = nil
	o.mu.Unlock()
	return l.close()
}

// DebugSession is the session ID of the debug files ("" without them).
func (o *Orchestrator) DebugSession() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log == nil {
		return ""
	}
	return o.log.session
}

// SetBreakerThreshold makes the circuit breaker open by itself after n
// provisioning failures in a row (0: only SetCircuitBreaker opens it), with
// eta seconds as its recovery estimate (counting down from its opening, as
// the real orchestrator's does).
func (o *Orchestrator) SetBreakerThreshold(n, eta int) {
	o.mu.Lock()
	o.breakerThreshold, o.breakerETA = n, eta
	o.mu.Unlock()
}

// SetSlowProvisioning sets the duration past which provisioning is logged
// as slow (a performance line and a slow_provisioning stress event).
func (o *Orchestrator) SetSlowProvisioning(d time.Duration) {
	o.mu.Lock()
	o.slowProvisioning = d
	o.mu.Unlock()
}

// BreakerOpened is closed when the circuit breaker opens (a new channel
// once it has closed again).
func (o *Orchestrator) BreakerOpened() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.breakerOpened
}

// SetCircuitBreaker opens or closes the provisioning circuit breaker; eta is
// the recovery estimate it reports, in seconds, counting down from its
// opening (a breaker already open keeps its own).
func (o *Orchestrator) SetCircuitBreaker(open bool, eta int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if open && !o.breakerOpen {
		o.openBreakerLocked(eta)
		return
	}
	if !open && o.breakerOpen {
		o.failures = 0
		o.log.log("circuit_breaker", kv{"operation_type", "provisioning"}, kv{"state", "closed"}, kv{"failure_count", 0})
		o.breakerOpened = make(chan struct{})
	}
	if !open {
		o.breakerOpen, o.breakerETA = false, eta
	}
}

// openBreakerLocked opens the breaker and logs it as the orchestrator does.
func (o *Orchestrator) openBreakerLocked(eta int) {
	o.breakerOpen, o.breakerETA, o.breakerUntil = true, eta, time.Now().Add(time.Duration(eta)*time.Second)
	n := o.failures
	o.log.log("circuit_breaker", kv{"operation_type", "provisioning"}, kv{"state", "open"}, kv{"failure_count", n}, kv{"threshold", max(o.breakerThreshold, n)})
	desc := "Circuit breaker opened"
	if n > 0 {
		desc = fmt.Sprintf("Circuit breaker opened after %d failures", n)
	}
	o.log.log("stress", kv{"event_type", "circuit_breaker_opened"}, kv{"severity", "critical"}, kv{"description", desc}, kv{"failure_count", n})
	close(o.breakerOpened)
}

// SetVPNDown makes provisioning blocked by a VPN disconnection.
func (o *Orchestrator) SetVPNDown(down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if down == o.vpnDown {
		return
	}
	o.vpnDown = down
	old, now := "healthy", "unhealthy"
	if !down {
		old, now = now, old
	}
	o.log.log("vpn", kv{"operation", "health_check"}, kv{"status", now}, kv{"duration_ms", float(10)})
	o.log.log("vpn", kv{"operation", "transition"}, kv{"status", now}, kv{"duration_ms", nil}, kv{"old_status", old}, kv{"new_status", now})
	if down {
		o.log.log("stress", kv{"event_type", "vpn_disconnection"}, kv{"severity", "critical"}, kv{"description", "Gluetun VPN became unhealthy"}, kv{"container", "gluetun"})
	} else {
		o.log.log("vpn", kv{"operation", "restart_engines"}, kv{"status", "triggered"}, kv{"duration_ms", nil}, kv{"reason", "vpn_reconnection"})
	}
}

// SetLegacyErrors makes 503 answers carry a plain-string detail, as older
// orchestrators did.
func (o *Orchestrator) SetLegacyErrors(legacy bool) {
	o.mu.Lock()
	o.legacyErrors = legacy
	o.mu.Unlock()
}

// SetProvisionDelay makes provisioning answers slow.
func (o *Orchestrator) SetProvisionDelay(d time.Duration) {
	o.mu.Lock()
	o.provisionDelay = d
	o.mu.Unlock()
}

// RemoveEngines forgets every engine, so the next request provisions.
func (o *Orchestrator) RemoveEngines() {
	o.mu.Lock()
	o.engines = nil
	o.mu.Unlock()
}

// Received returns the requests received so far.
func (o *Orchestrator) Received() []Received {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Received(nil), o.received...)
}

// ServeHTTP serves the orchestrator's API.
func (o *Orchestrator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Received{Method: r.Method, Path: r.URL.Path, RequestID: r.Header.Get(reqid.HeaderRequestID), Traceparent: r.Header.Get(reqid.HeaderTraceparent)}
	if r.Body != nil && r.Method == http.MethodPost {
		_ = json.NewDecoder(r.Body).Decode(&rec.Body)
	}
	o.mu.Lock()
	o.received = append(o.received, rec)
	o.mu.Unlock()

	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/orchestrator/status":
		o.status(w)
	case r.Method == http.MethodGet && r.URL.Path == "/engines":
		o.mu.Lock()
		list := make([]engine, len(o.engines))
		for i, e := range o.engines {
			e.Streams = []string{}
			for id := range o.streams[e.ContainerID] {
				e.Streams = append(e.Streams, id)
			}
			sort.Strings(e.Streams)
			e.LastSeen = isoTime(time.Now())
			list[i] = e
		}
		o.mu.Unlock()
		writeJSON(w, http.StatusOK, list)
	case r.Method == http.MethodGet && r.URL.Path == "/streams":
		o.mu.Lock()
		var list []map[string]string
		for id := range o.streams[r.URL.Query().Get("container_id")] {
			list = append(list, map[string]string{"id": id, "status": "started"})
		}
		o.mu.Unlock()
		writeJSON(w, http.StatusOK, list)
	case r.Method == http.MethodPost && r.URL.Path == "/provision/acestream":
		o.provision(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/events/stream_started":
		o.streamEvent(rec.Body, true)
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	case r.Method == http.MethodPost && r.URL.Path == "/events/stream_ended":
		o.streamEvent(rec.Body, false)
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	default:
		http.NotFound(w, r)
	}
}

func (o *Orchestrator) status(w http.ResponseWriter) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil && time.Since(o.lastCycle) >= time.Second { // its health monitor's cycle
		o.lastCycle = time.Now()
		o.log.log("health", kv{"component", "health_monitor_cycle"}, kv{"container_id", nil}, kv{"status", "completed"}, kv{"duration_ms", float(1.5)},
			kv{"error", nil}, kv{"total_engines", len(o.engines)}, kv{"healthy", len(o.engines)}, kv{"unhealthy", 0})
		vpn := "healthy"
		if o.vpnDown {
			vpn = "unhealthy"
		}
		o.log.log("vpn", kv{"operation", "health_check"}, kv{"status", vpn}, kv{"duration_ms", float(10)})
	}
	active := 0
	for _, s := range o.streams {
		active += len(s)
	}
	st := map[string]any{
		"status":   "healthy",
		"engines":  map[string]int{"total": len(o.engines), "running": len(o.engines), "healthy": len(o.engines), "unhealthy": 0},
		"streams":  map[string]int{"active": active, "total": active},
		"capacity": map[string]int{"total": 10, "used": len(o.engines), "available": 10 - len(o.engines)},
		"vpn":      map[string]bool{"enabled": true, "connected": !o.vpnDown},
	}
	prov := map[string]any{"can_provision": true, "circuit_breaker_state": "closed", "blocked_reason": nil, "blocked_reason_details": nil}
	if code, msg, eta, blocked := o.blockedLocked(); blocked {
		st["status"] = "degraded"
		prov = map[string]any{"can_provision": false, "circuit_breaker_state": map[bool]string{true: "open", false: "closed"}[o.breakerOpen],
			"blocked_reason": msg, "blocked_reason_details": map[string]any{"code": code, "message": msg, "recovery_eta_seconds": eta, "can_retry": true, "should_wait": true}}
	}
	st["provisioning"] = prov
	writeJSON(w, http.StatusOK, st)
}

// blockedLocked says whether provisioning is blocked, and why.
func (o *Orchestrator) blockedLocked() (code, msg string, eta int, blocked bool) {
	switch {
	case o.vpnDown:
		return "vpn_disconnected", "VPN is disconnected", 30, true
	case o.breakerOpen:
		// Counting down; a breaker still open past its estimate says 1s.
		left := max(int(math.Ceil(time.Until(o.breakerUntil).Seconds())), 1)
		return "circuit_breaker", "Circuit breaker is open after repeated failures", left, true
	}
	return "", "", 0, false
}

func (o *Orchestrator) provision(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	reqID := r.Header.Get(reqid.HeaderRequestID)
	withID := func(fields ...kv) []kv {
		if reqID != "" {
			fields = append(fields, kv{"request_id", reqID})
		}
		return fields
	}
	o.mu.Lock()
	delay := o.provisionDelay
	o.log.log("provisioning", withID(kv{"operation", "start_acestream_begin"}, kv{"container_id", nil}, kv{"duration_ms", nil}, kv{"success", true},
		kv{"error", nil}, kv{"labels", []kv{{"acexy", "true"}}}, kv{"has_custom_env", false})...)
	o.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "missing API key"})
		return
	}
	o.mu.Lock()
	code, msg, eta, blocked := o.blockedLocked()
	legacy := o.legacyErrors
	if !blocked {
		o.nextID++
		name := "acestream-" + strconv.Itoa(o.nextID)
		now := isoTime(time.Now())
		e := engine{ContainerID: fmt.Sprintf("%012x", 0xacef00d0000+o.nextID), ContainerName: name, Host: o.EngineHost, Port: o.EnginePort,
			Labels: map[string]string{"acexy": "true"}, FirstSeen: now, LastSeen: now, Health: "healthy", LastHealthCheck: &now}
		o.engines = append(o.engines, e)
		o.failures = 0
		o.logProvisionedLocked(withID, e, name, begin)
		o.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"container_id": e.ContainerID, "container_name": name, "host_http_port": e.Port})
		return
	}
	o.log.log("provisioning", withID(kv{"operation", "start_acestream_failed"}, kv{"container_id", nil}, kv{"duration_ms", msFloat(time.Since(begin))},
		kv{"success", false}, kv{"error", msg}, kv{"status", http.StatusServiceUnavailable})...)
	if !o.breakerOpen && o.breakerThreshold > 0 {
		o.failures++
		if o.failures >= o.breakerThreshold {
			o.openBreakerLocked(o.breakerETA)
		} else {
			o.log.log("circuit_breaker", kv{"operation_type", "provisioning"}, kv{"state", "closed"}, kv{"failure_count", o.failures})
		}
	}
	o.mu.Unlock()
	if legacy {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "Provisioning blocked: " + msg})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"detail": map[string]any{
		"error": "provisioning_blocked", "code": code, "message": msg, "recovery_eta_seconds": eta, "can_retry": true, "should_wait": true}})
}

// logProvisionedLocked logs a successful provisioning as the orchestrator
// does, and a slow one as slow.
func (o *Orchestrator) logProvisionedLocked(withID func(...kv) []kv, e engine, name string, begin time.Time) {
	if o.log == nil {
		return
	}
	took := time.Since(begin)
	o.log.log("provisioning", withID(kv{"operation", "start_container_begin"}, kv{"container_id", nil}, kv{"duration_ms", nil}, kv{"success", true},
		kv{"error", nil}, kv{"container_name", name}, kv{"image", "ghcr.io/example/acestream:latest"}, kv{"labels", []kv{}})...)
	o.log.log("provisioning", withID(kv{"operation", "start_container_success"}, kv{"container_id", e.ContainerID}, kv{"duration_ms", msFloat(took)},
		kv{"success", true}, kv{"error", nil})...)
	o.log.log("provisioning", withID(kv{"operation", "start_acestream_success"}, kv{"container_id", e.ContainerID}, kv{"duration_ms", msFloat(took)},
		kv{"success", true}, kv{"error", nil}, kv{"container_name", name}, kv{"host_http_port", e.Port})...)
	if o.slowProvisioning > 0 && took > o.slowProvisioning {
		o.log.log("performance", kv{"operation", "start_acestream"}, kv{"duration_ms", msFloat(took)}, kv{"threshold_exceeded", true})
		o.log.log("stress", kv{"event_type", "slow_provisioning"}, kv{"severity", "warning"},
			kv{"description", fmt.Sprintf("Provisioning took %.1fs", took.Seconds())}, kv{"container_id", e.ContainerID},
			kv{"duration", float(math.Round(took.Seconds()*10) / 10)})
	}
}

// msFloat is a duration as the orchestrator writes it: float milliseconds,
// 2 decimals.
func msFloat(d time.Duration) float {
	return float(math.Round(float64(d)/1e4) / 100)
}

func (o *Orchestrator) streamEvent(body map[string]any, started bool) {
	container, _ := body["container_id"].(string)
	var id string
	if started {
		if labels, ok := body["labels"].(map[string]any); ok {
			id, _ = labels["stream_id"].(string)
		}
	} else {
		id, _ = body["stream_id"].(string)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if started {
		if o.streams[container] == nil {
			o.streams[container] = make(map[string]bool)
		}
		o.streams[container][id] = true
		now := isoTime(time.Now())
		for i := range o.engines {
			if o.engines[i].ContainerID == container {
				o.engines[i].LastStreamUsage = &now
			}
		}
	} else {
		delete(o.streams[container], id)
	}
}

// isoTime writes t as the orchestrator does: Python's isoformat() of a UTC time.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000-07:00") }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
