// Package stress provides the stress handler of debugmode: a slog.Handler
// placed in the fan-out that observes every record's category, "duration"
// (a time.Duration) and "error" attributes and emits stress events, as
// records in category "stress", to another handler (the console and the
// category files, never itself).
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
// an "error". Every threshold, window and cooldown is an Option; any other
// category can have a slow rule (Options.Slow), and Options.Rules adds the
// user's own. Each event type fires at most once per cooldown; the events
// it suppresses are reported as "suppressed" on its next event.
//
// Windows and cooldowns run on the records' own times, so a test drives
// them by logging records with chosen times.
package stress
