package debuglog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// incidentOrch is the orchestrator's side of the demo's incident, in its
// own format (Python's isoformat times, nulls), at 10:17:20: the VPN drops,
// provisioning fails on it and on the circuit breaker, which counts its
// failures while closed, opens, and closes 3 s later; routine events all
// around (each request's start_acestream_begin, health cycles).
var incidentOrch = map[string][]string{
	"vpn": {
		orchLine("19.000000", `"operation": "health_check", "status": "healthy", "duration_ms": 10.0`),
		orchLine("20.000000", `"operation": "health_check", "status": "unhealthy", "duration_ms": 20.0`),
		orchLine("22.900000", `"operation": "health_check", "status": "healthy", "duration_ms": 10.0`),
	},
	"stress": {
		orchLine("20.000100", `"event_type": "vpn_disconnection", "severity": "critical", "description": "Gluetun VPN became unhealthy"`),
		orchLine("20.013100", `"event_type": "circuit_breaker_opened", "severity": "critical", "description": "Circuit breaker opened after 5 failures", "failure_count": 5`),
	},
	"provisioning": {
		orchLine("20.010000", `"operation": "start_acestream_begin", "container_id": null, "duration_ms": null, "success": true, "error": null, "request_id": "r1"`),
		orchLine("20.011000", `"operation": "start_acestream_failed", "container_id": null, "duration_ms": 0.01, "success": false, "error": "VPN is disconnected", "status": 503, "request_id": "r1"`),
		orchLine("20.050000", `"operation": "start_acestream_begin", "container_id": null, "duration_ms": null, "success": true, "error": null, "request_id": "r2"`),
		orchLine("20.050100", `"operation": "start_acestream_failed", "container_id": null, "duration_ms": 0.01, "success": false, "error": "Circuit breaker is open after repeated failures", "status": 503, "request_id": "r2"`),
		orchLine("20.052000", `"operation": "start_acestream_failed", "container_id": null, "duration_ms": 0.01, "success": false, "error": "Circuit breaker is open after repeated failures", "status": 503, "request_id": "r3"`),
	},
	"circuit_breaker": {
		orchLine("20.012000", `"operation_type": "provisioning", "state": "closed", "failure_count": 4`),
		orchLine("20.013000", `"operation_type": "provisioning", "state": "open", "failure_count": 5, "threshold": 5`),
		orchLine("23.000000", `"operation_type": "provisioning", "state": "closed", "failure_count": 0`),
	},
	"health": {
		orchLine("20.040000", `"component": "health_monitor_cycle", "container_id": null, "status": "completed", "duration_ms": 1.5, "error": null, "total_engines": 15, "healthy": 15, "unhealthy": 0`),
	},
}

func orchLine(at, fields string) string {
	return fmt.Sprintf(`{"session_id": "20261126_102000", "timestamp": "2026-11-26T10:17:%s+00:00", "elapsed_seconds": 1.0, %s}`, at, fields)
}

// incidentProxy is the proxy's side: r1's provisioning fails on the VPN
// (high_provisioning_failure_rate), r2's on the breaker
// (provisioning_circuit_breaker, then its 503), the health poll sees the
// orchestrator degraded and then recovered.
var incidentProxy = []string{
	proxyLine("provisioning", "provisioning", "20.011500000", `"request_id":"r1","operation":"provision_attempt_failed","duration_ms":2.0,"success":false,"error":"provisioning blocked (vpn_disconnected): VPN is disconnected"`),
	proxyLine("stress", "high_provisioning_failure_rate", "20.011600000", `"request_id":"r1","event_type":"high_provisioning_failure_rate","severity":"critical","description":"6 provisioning failures in the last 1m0s","error":"provisioning blocked (vpn_disconnected): VPN is disconnected"`),
	proxyLine("provisioning", "provisioning", "20.050500000", `"request_id":"r2","operation":"provision_attempt_failed","duration_ms":1.0,"success":false,"error":"provisioning blocked (circuit_breaker): Circuit breaker is open after repeated failures"`),
	proxyLine("stress", "provisioning_circuit_breaker", "20.050600000", `"request_id":"r2","event_type":"provisioning_circuit_breaker","severity":"critical","description":"Provisioning blocked by the orchestrator's circuit breaker","error":"provisioning blocked (circuit_breaker): Circuit breaker is open after repeated failures"`),
	proxyLine("requests", "request", "20.060000000", `"request_id":"r2","method":"GET","path":"/ace/getstream","duration_ms":15.0,"status_code":503`),
	proxyLine("orchestrator_health", "orchestrator_health", "20.100000000", `"request_id":"poll-1","status":"degraded","can_provision":false,"blocked_reason":"VPN is disconnected","blocked_reason_code":"vpn_disconnected","vpn_connected":false`),
	proxyLine("stress", "orchestrator_degraded", "20.100100000", `"request_id":"poll-1","event_type":"orchestrator_degraded","severity":"warning","description":"Orchestrator is degraded: VPN is disconnected","blocked_reason_code":"vpn_disconnected","vpn_connected":false`),
	proxyLine("stress", "orchestrator_recovered", "23.200000000", `"request_id":"poll-2","event_type":"orchestrator_recovered","severity":"info","description":"Orchestrator is healthy again after 3.1s degraded"`),
}

// writeIncident writes both systems' files of the incident.
func writeIncident(t *testing.T) (proxy, orch string) {
	t.Helper()
	proxy = writeLines(t, incidentProxy)
	orch = t.TempDir()
	for cat, lines := range incidentOrch {
		require.NoError(t, os.WriteFile(filepath.Join(orch, "20261126_102000_"+cat+".jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	return proxy, orch
}

// routine says whether a cause (by its name and line) is a routine event:
// neither a state change nor a failure.
func routine(name string, data map[string]any) bool {
	switch name {
	case "start_acestream_begin", "health_monitor_cycle":
		return true
	case "circuit_breaker":
		return data["state"] == "closed" && data["failure_count"] != 0.0
	case "health_check":
		return data["status"] == "healthy"
	}
	return false
}

// TestStateChangesAndFailuresRankAboveRoutineEvents: whatever matched a
// routine event (the same request_id, the same topic), a state change or a
// failure of the same window (the VPN dropping, the breaker opening, a
// provisioning that failed) ranks above it.
func TestStateChangesAndFailuresRankAboveRoutineEvents(t *testing.T) {
	proxy, orch := writeIncident(t)
	doc := correlateJSON(t, "--proxy", proxy, "--orch", orch, "--poll", "200ms", "--max", "10")
	for _, tc := range []struct {
		effect, request string
		first           string   // the leading cause
		above           []string // causes that must rank above every routine one
	}{
		{"high_provisioning_failure_rate", "r1", "start_acestream_failed", []string{"start_acestream_failed", "vpn_disconnection"}},
		{"provisioning_circuit_breaker", "r2", "start_acestream_failed", []string{"start_acestream_failed", "circuit_breaker_opened"}},
		{"request", "r2", "start_acestream_failed", []string{"start_acestream_failed", "circuit_breaker_opened"}},
		{"orchestrator_degraded", "poll-1", "vpn_disconnection", []string{"vpn_disconnection"}},
		{"orchestrator_recovered", "poll-2", "circuit_breaker", nil},
	} {
		t.Run(tc.effect+"/"+tc.request, func(t *testing.T) {
			var causes []string
			seenRoutine := ""
			for _, e := range doc.Effects {
				if e.Name != tc.effect || e.Data["request_id"] != tc.request {
					continue
				}
				for _, c := range e.Causes {
					desc := c.Name + fmt.Sprint(c.Data["state"], c.Data["failure_count"], c.Data["status"])
					causes = append(causes, desc)
					if routine(c.Name, c.Data) {
						if seenRoutine == "" {
							seenRoutine = desc
						}
						continue
					}
					assert.Empty(t, seenRoutine, "%s ranks below the routine %s: %v", desc, seenRoutine, causes)
				}
			}
			require.NotEmpty(t, causes)
			assert.True(t, strings.HasPrefix(causes[0], tc.first), "%v", causes)
			for _, name := range tc.above {
				found := false
				for _, c := range causes {
					found = found || strings.HasPrefix(c, name)
				}
				assert.True(t, found, "%s among the causes: %v", name, causes)
			}
		})
	}
	// The recovery: the breaker's closing (a state change) explains it.
	for _, e := range doc.Effects {
		if e.Name == "orchestrator_recovered" {
			assert.Equal(t, "closed", e.Causes[0].Data["state"])
			assert.Equal(t, 0.0, e.Causes[0].Data["failure_count"])
		}
	}
}
