package integration

import (
	"context"
	"net/http"

	"github.com/proxydebug/debugmode/acestream"
)

// Status is the orchestrator's /orchestrator/status. Engines, Streams and
// Capacity are nil when the answer did not have them.
type Status struct {
	Status  string `json:"status"`
	Engines *struct {
		Total, Running, Healthy, Unhealthy int
	} `json:"engines"`
	Streams *struct {
		Active, Total int
	} `json:"streams"`
	Capacity *struct {
		Total, Used, Available int
	} `json:"capacity"`
	VPN struct {
		Enabled, Connected bool
	} `json:"vpn"`
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

// Health maps a status onto the record LogOrchestratorHealth writes; what
// the status did not have stays unknown, and is left out of the line.
func (s *Status) Health() acestream.OrchestratorHealth {
	h := acestream.OrchestratorHealth{
		Status:        s.Status,
		CanProvision:  s.Provisioning.CanProvision,
		BlockedReason: s.Provisioning.BlockedReason,
		VPNConnected:  s.VPN.Connected,
	}
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
		h.BlockedReasonCode = d.Code
		h.RecoveryETASeconds = int(d.RecoveryETASeconds)
		if h.BlockedReason == "" {
			h.BlockedReason = d.Message
		}
	}
	return h
}

// Status fetches /orchestrator/status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	if err := c.do(ctx, http.MethodGet, "/orchestrator/status", nil, &s, false); err != nil {
		return nil, err
	}
	return &s, nil
}
