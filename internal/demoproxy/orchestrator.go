package demoproxy

import (
	"encoding/json"
	"fmt"
	"net/http"
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
	breakerETA     int
	vpnDown        bool
	legacyErrors   bool
	provisionDelay time.Duration
	nextID         int
	received       []Received
}

type engine struct {
	ContainerID string `json:"container_id"`
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Health      string `json:"health_status"`
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
	return &Orchestrator{EngineHost: engineHost, EnginePort: enginePort, streams: make(map[string]map[string]bool)}
}

// SetCircuitBreaker opens or closes the provisioning circuit breaker; eta is
// the recovery estimate it reports, in seconds.
func (o *Orchestrator) SetCircuitBreaker(open bool, eta int) {
	o.mu.Lock()
	o.breakerOpen, o.breakerETA = open, eta
	o.mu.Unlock()
}

// SetVPNDown makes provisioning blocked by a VPN disconnection.
func (o *Orchestrator) SetVPNDown(down bool) {
	o.mu.Lock()
	o.vpnDown = down
	o.mu.Unlock()
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
		list := append([]engine{}, o.engines...)
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
		return "circuit_breaker", "Circuit breaker is open after repeated failures", o.breakerETA, true
	}
	return "", "", 0, false
}

func (o *Orchestrator) provision(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	delay := o.provisionDelay
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
		e := engine{ContainerID: fmt.Sprintf("%012x", 0xacef00d0000+o.nextID), Host: o.EngineHost, Port: o.EnginePort, Health: "healthy"}
		name := "acestream-" + strconv.Itoa(o.nextID)
		o.engines = append(o.engines, e)
		o.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"container_id": e.ContainerID, "container_name": name, "host_http_port": e.Port})
		return
	}
	o.mu.Unlock()
	if legacy {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "Provisioning blocked: " + msg})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"detail": map[string]any{
		"error": "provisioning_blocked", "code": code, "message": msg, "recovery_eta_seconds": eta, "can_retry": true, "should_wait": true}})
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
	} else {
		delete(o.streams[container], id)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
