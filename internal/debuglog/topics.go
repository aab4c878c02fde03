package debuglog

import (
	"sort"
	"strings"
)

// Topics an event can be about. An event can be about several: a
// provisioning failure blocked by the VPN is about provisioning and the VPN.
const (
	topicProvisioning   = "provisioning"
	topicCircuitBreaker = "circuit_breaker"
	topicVPN            = "vpn"
	topicEngines        = "engines"
	topicStream         = "stream"
	topicRequest        = "request"
)

// topicSet is a small ordered set of topics: the first is the event's main
// topic.
type topicSet []string

func (s *topicSet) add(t string) {
	for _, x := range *s {
		if x == t {
			return
		}
	}
	*s = append(*s, t)
}

func (s topicSet) has(t string) bool {
	for _, x := range s {
		if x == t {
			return true
		}
	}
	return false
}

// sorted returns the topics in name order (for output that must not
// depend on discovery order).
func (s topicSet) sorted() []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// eventText is the lower-cased text of an event's name and of the fields
// that say what went wrong.
func eventText(ev *Event) string {
	var b strings.Builder
	for _, k := range []string{"error", "error_message", "error_type", "blocked_reason_code", "blocked_reason", "description", "reason", "url"} {
		if s := ev.str(k); s != "" {
			b.WriteString(s)
			b.WriteByte(' ')
		}
	}
	return strings.ToLower(ev.name() + " " + b.String())
}

// topicsOf says what an event is about. The orchestrator's categories say
// it for its events; the proxy's category, event type and error text say it
// for the proxy's.
func topicsOf(ev *Event) topicSet {
	var ts topicSet
	text := eventText(ev)
	name := ev.name()
	if ev.System == systemOrch {
		switch ev.Category {
		case "provisioning":
			ts.add(topicProvisioning)
		case "circuit_breaker":
			ts.add(topicCircuitBreaker)
			ts.add(topicProvisioning)
		case "vpn":
			ts.add(topicVPN)
		case "health":
			ts.add(topicEngines)
		case "performance", "errors":
			if strings.Contains(text, "acestream") || strings.Contains(text, "provision") || strings.Contains(text, "container") {
				ts.add(topicProvisioning)
			}
		case "stress":
			switch {
			case strings.HasPrefix(name, "circuit_breaker"):
				ts.add(topicCircuitBreaker)
				ts.add(topicProvisioning)
			case strings.HasPrefix(name, "vpn"):
				ts.add(topicVPN)
			case strings.Contains(name, "provisioning"):
				ts.add(topicProvisioning)
			case strings.Contains(name, "engines"):
				ts.add(topicEngines)
			}
		}
	} else {
		switch ev.Category {
		case "provisioning":
			ts.add(topicProvisioning)
		case "engine_selection":
			ts.add(topicEngines)
		case "streams", "disconnects":
			ts.add(topicStream)
		case "requests":
			ts.add(topicRequest)
		case "orchestrator_calls":
			switch url := ev.str("url"); {
			case strings.Contains(url, "/provision"):
				ts.add(topicProvisioning)
			case strings.Contains(url, "/events/stream"):
				ts.add(topicStream)
			case strings.Contains(url, "/engines"):
				ts.add(topicEngines)
			}
		case "orchestrator_health":
			if ev.Fields["can_provision"] == false {
				ts.add(topicProvisioning)
			}
		}
		switch {
		case strings.Contains(name, "provisioning") || strings.Contains(name, "provision_"):
			ts.add(topicProvisioning)
		case strings.Contains(name, "engine"):
			ts.add(topicEngines)
		case strings.Contains(name, "request"):
			ts.add(topicRequest)
		case strings.HasPrefix(name, "stream_"): // stream_stalled
			ts.add(topicStream)
		}
		if ev.Fields["vpn_connected"] == false {
			ts.add(topicVPN)
		}
	}
	// Whatever wrote it, the text names the circuit breaker and the VPN.
	if strings.Contains(text, "circuit_breaker") || strings.Contains(text, "circuit breaker") {
		ts = prepend(ts, topicCircuitBreaker, ev.Category == "orchestrator_health" || name == "orchestrator_degraded")
		ts.add(topicProvisioning)
	}
	if strings.Contains(text, "vpn") {
		ts = prepend(ts, topicVPN, ev.Category == "orchestrator_health" || name == "orchestrator_degraded")
	}
	return ts
}

// prepend adds t, first when main (the event's main topic), else last.
func prepend(ts topicSet, t string, main bool) topicSet {
	if !main || ts.has(t) {
		ts.add(t)
		return ts
	}
	return append(topicSet{t}, ts...)
}

// weight ranks how strongly an orchestrator event signals trouble: 3 a
// critical stress event, 2 another stress event or an error, 1 a failure,
// an unhealthy reading or a state change, 0 routine.
func weight(ev *Event) int {
	switch {
	case ev.Category == "stress" && ev.str("severity") == "critical":
		return 3
	case ev.Category == "stress" || ev.Category == "errors":
		return 2
	case adverse(ev):
		return 1
	}
	return 0
}

// failure says whether an orchestrator event is a failure or a sign of
// trouble in itself: trouble (adverse) other than the circuit breaker's
// readings, whose failure counts while it stays closed are routine (its
// opening and closing are state changes: orchIndex.findStates).
func failure(ev *Event) bool {
	return ev.Category != "circuit_breaker" && adverse(ev)
}

// adverse says whether an orchestrator event is trouble (rather than
// routine): a stress event, an error, a failed or timed-out operation, a
// circuit breaker count or state, an unhealthy reading, a threshold passed.
func adverse(ev *Event) bool {
	name := ev.name()
	switch ev.Category {
	case "stress", "errors", "circuit_breaker":
		return true
	case "vpn":
		if name == "transition" {
			return ev.str("new_status") != "healthy"
		}
		return ev.str("status") == "unhealthy"
	case "health":
		n, _ := ev.num("unhealthy")
		return n > 0 || (ev.str("status") != "" && ev.str("status") != "completed" && ev.str("status") != "healthy")
	case "performance":
		return ev.Fields["threshold_exceeded"] == true
	}
	return ev.Fields["success"] == false || strings.HasSuffix(name, "_failed") || strings.HasSuffix(name, "_timeout") ||
		ev.str("error") != "" || ev.str("error_message") != ""
}
