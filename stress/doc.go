// Package stress provides the stress handler of debugmode: a slog.Handler
// in the fan-out that observes every record's category, "duration" and
// "error" attributes and emits stress events, in category "stress", to
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
// an "error"; one with "summary": true (a retry loop's final outcome)
// counts toward no window and fires no provisioning_circuit_breaker. Every
// threshold, window and cooldown is an Option; Options.Slow gives any
// category a slow rule, and Options.Rules adds the user's own.
//
// Every per-record event (the user's too) is sent to Files; within its
// type's cooldown (30s by default) it skips the Console, counted as
// "console_suppressed". The windowed events (high_*_rate, records_dropped)
// describe a stretch of time: within the cooldown they are sent nowhere,
// counted as "suppressed". The next event of the type sent to the Console
// carries the count since the last, Close writes the counts left
// (stress_suppressed), and Stats has the totals. The orchestrator's
// transitions have no cooldown unless one is configured.
//
// Windows and cooldowns run on the records' own times, so a test drives
// them by logging records with chosen times.
package stress
