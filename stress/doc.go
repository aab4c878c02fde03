// Package stress provides the stress handler of debugmode: a slog.Handler
// in the fan-out that observes every record's category, "duration", "ttfb"
// and "error" attributes (and streams' "stream_stalled" lines) and emits
// stress events, in category "stress", to Files, the record of the
// incident, and Console, what a person watches.
//
// The default rules:
//
//	event_type                      severity  trigger
//	slow_request                    warning   a requests record with ttfb > 5s (without a ttfb: duration > 5s)
//	stream_stalled                  warning   a streams record with event_type stream_stalled (CopyStream's, while the stall lasts)
//	slow_engine_selection           warning   an engine_selection record with duration > 2s
//	high_slow_request_rate          warning   > 10 slow requests (slow starts) in a sliding minute
//	high_provisioning_failure_rate  critical  > 5 failed provisioning records in a sliding minute
//	provisioning_circuit_breaker    critical  a failed provisioning record whose code or error names the circuit breaker
//	orchestrator_degraded           warning   an orchestrator_health record whose status becomes "degraded"
//	orchestrator_recovered          info      ... and leaves it
//	records_dropped                 warning   the category handler dropped records (DropsHappened)
//
// A record with a "ttfb" (time to first byte) is slow by it, whatever its
// duration: an AceStream request is the stream, it lasts minutes or hours,
// and what a viewer waits for is its first byte.
//
// A provisioning record with "summary": true (a retry loop's outcome) counts
// toward no window. Every threshold, window and cooldown is an Option.
//
// Within its type's cooldown a per-record event still goes to Files but not
// the Console ("console_suppressed"); a windowed one goes nowhere
// ("suppressed"). Counts ride on the next event; Close writes the rest.
// Windows and cooldowns run on Options.Now (the monotonic clock), never on
// the records' times.
package stress
