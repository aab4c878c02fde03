package debuglog

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// envelope are the keys every line has; they are shown as columns, not
// fields.
var envelope = map[string]bool{"session_id": true, "timestamp": true, "elapsed_seconds": true, "level": true, "category": true, "msg": true,
	"trace_id": true, "span_id": true, "traceback": true}

// categoryFields are, per system and category, the fields that say what
// happened, in the order they are shown.
var categoryFields = map[string][]string{
	"proxy/requests":               {"method", "path", "status_code", "duration_ms", "ace_id", "bytes", "error", "reason", "stream_error", "request_id"},
	"proxy/engine_selection":       {"selected_host", "selected_port", "container_id", "duration_ms", "error", "request_id"},
	"proxy/provisioning":           {"success", "duration_ms", "retry_count", "wait_ms", "container_id", "error", "request_id"},
	"proxy/orchestrator_calls":     {"method", "url", "status_code", "duration_ms", "error", "request_id"},
	"proxy/orchestrator_health":    {"status", "can_provision", "blocked_reason_code", "blocked_reason", "recovery_eta_seconds", "vpn_connected", "engine_count", "stream_count"},
	"proxy/streams":                {"stream_id", "engine_id", "ace_id", "duration_ms", "reported", "error", "request_id"},
	"proxy/disconnects":            {"reason", "stream_id", "bytes_copied", "duration_ms", "side", "error", "request_id"},
	"proxy/stress":                 {"severity", "description", "count", "duration_ms", "threshold_ms", "blocked_reason_code", "error", "suppressed", "request_id"},
	"proxy/errors":                 {"component", "operation", "error_type", "error_message", "container_id", "request_id"},
	"proxy/session":                {"pid", "version", "records_written", "records_dropped", "records_failed", "log_directory"},
	"orchestrator/provisioning":    {"container_id", "container_name", "host_http_port", "duration_ms", "success", "error", "status", "request_id"},
	"orchestrator/circuit_breaker": {"operation_type", "state", "failure_count", "threshold"},
	"orchestrator/vpn":             {"status", "old_status", "new_status", "duration_ms", "reason"},
	"orchestrator/health":          {"status", "healthy", "unhealthy", "total_engines", "duration_ms", "container_id", "error"},
	"orchestrator/performance":     {"duration_ms", "threshold_exceeded"},
	"orchestrator/stress":          {"severity", "description", "container_id", "container", "failure_count", "unhealthy_count", "total", "duration"},
	"orchestrator/errors":          {"component", "error_type", "error_message", "container_id"},
	"orchestrator/session":         {"log_directory"},
}

// maxOtherFields bounds the fields shown for a category without a list.
const maxOtherFields = 8

// fieldsFor returns the key=value pairs that matter for an event, escaped
// for a terminal: its category's list, or (for other categories) its
// scalar fields in name order. Nulls and empty values are left out, and so
// is the field that is the event's name.
func fieldsFor(ev *Event) [][2]string {
	name := ev.name()
	var keys []string
	if list, ok := categoryFields[ev.System+"/"+ev.Category]; ok {
		keys = list
	} else {
		for k := range ev.Fields {
			if !envelope[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
	}
	var out [][2]string
	for _, k := range keys {
		v, ok := ev.Fields[k]
		if !ok || v == nil {
			continue
		}
		s, scalar := scalarText(v)
		if !scalar || s == "" || s == name {
			continue
		}
		if len(out) == maxOtherFields && categoryFields[ev.System+"/"+ev.Category] == nil {
			break
		}
		out = append(out, [2]string{escapeText(k), quoteValue(s)})
	}
	return out
}

// scalarText renders a JSON scalar; objects and arrays are not scalars.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// quoteValue escapes a value for a terminal, quoting it when it has spaces
// or characters that would make key=value ambiguous.
func quoteValue(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if strings.ContainsAny(s, " \"=") || s == "" {
		return strconv.QuoteToASCII(s)
	}
	return escapeText(s)
}

// palette is the timeline's colours (ANSI SGR), or none.
type palette struct {
	on bool
}

func (p palette) wrap(code, s string) string {
	if !p.on || code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// formatEvent renders an event as one timeline line: time, system,
// category, name, the fields that matter. Everything from the file is
// escaped, so the line is one line and drives nothing.
func formatEvent(ev *Event) string { return formatEventColor(ev, palette{}) }

func formatEventColor(ev *Event, p palette) string {
	var b strings.Builder
	ts := "-"
	if !ev.Time.IsZero() {
		ts = ev.Time.Format("2006-01-02T15:04:05.000000Z")
	}
	sys, sysColor := "proxy", "32"
	if ev.System == systemOrch {
		sys, sysColor = "orch ", "34"
	}
	nameColor := "1"
	sev := ev.str("severity")
	switch {
	case sev == "critical" || ev.str("level") == "ERROR" || ev.Category == "errors":
		nameColor = "1;31"
	case sev == "warning" || ev.str("level") == "WARN":
		nameColor = "1;33"
	case ev.Fields["success"] == false || ev.str("error") != "" || ev.System == systemOrch && adverse(ev):
		nameColor = "31"
	}
	b.WriteString(p.wrap("2", ts))
	b.WriteString("  ")
	b.WriteString(p.wrap(sysColor, sys))
	b.WriteString("  ")
	cat := escapeText(ev.Category)
	b.WriteString(p.wrap("36", cat))
	if pad := 20 - len(cat); pad > 0 {
		b.WriteString(strings.Repeat(" ", pad))
	}
	b.WriteString(" ")
	b.WriteString(p.wrap(nameColor, escapeText(ev.name())))
	for _, kv := range fieldsFor(ev) {
		b.WriteString(" ")
		b.WriteString(p.wrap("2", kv[0]+"="))
		b.WriteString(kv[1])
	}
	return b.String()
}

// timeOf formats a time for the timeline's columns.
func timeOf(t time.Time) string { return t.Format("15:04:05.000") }
