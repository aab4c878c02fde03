// Package stress provides the stress handler of debugmode: a slog.Handler
// placed in the fan-out that observes every record's category, "duration"
// (a time.Duration) and "error" attributes and emits stress events, as
// records in category "stress", to two other handlers (never itself):
// Files, the record of the incident, and Console, what a person watches.
//
// The default rules:
//
//	event_type                      severity  trigger
//	slow_request                    warning   a requests record with duration > 5s
//	slow_engine_selection           warning   an engine_selection record with duration > 2s
//	high_slow_request_rate          warning   > 10 slow requests in a sliding minute
//	high_provisioning_failure_rate  critical  > 5 failed provisioning records in a sliding minute
//	provisioning_circuit_breaker    critical  a failed provisioning record whose code or error names the circuit breaker
//	orchestrator_degraded           warning   an orchestrator_health record whose status becomes "degraded"
//	orchestrator_recovered          info      ... and leaves it
//	records_dropped                 warning   the category handler dropped records (DropsHappened)
//
// A provisioning record has failed when its "success" is false or it has
// an "error"; one with "summary": true (a retry loop's final outcome, whose
// attempts were logged one by one) counts toward no window and fires no
// provisioning_circuit_breaker. Every threshold, window and cooldown is an
// Option; any other category can have a slow rule (Options.Slow), and
// Options.Rules adds the user's own.
//
// Every occurrence of a per-record event (slow_*, provisioning_circuit_breaker,
// orchestrator_degraded/recovered, the events of the user's rules) is sent
// to Files: the file is the record of the incident. The cooldown (30s by
// default, per event type) quiets the Console only: within it a per-record
// event goes to Files alone, counted as "console_suppressed". The windowed
// events (high_slow_request_rate, high_provisioning_failure_rate,
// records_dropped) describe a stretch of time; within the cooldown they
// are sent nowhere, counted as "suppressed". The next event of the type sent
// to the Console carries the count since the last one, Close writes the
// counts no later event carried (a stress_suppressed line), and Stats has
// the totals (the slogdebug facade writes them in session_end). The
// orchestrator's transitions have no cooldown unless one is configured.
//
// Windows and cooldowns run on the records' own times (the monotonic clock,
// for records stamped by slog), so a test drives them by logging records
// with chosen times.
package stress
