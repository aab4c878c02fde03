// Package handler provides the category handler of debugmode: a
// slog.Handler that persists records carrying a "category" attribute as
// JSON Lines, one file per category, asynchronously with a bounded queue.
//
// # Files
//
// A session writes <Dir>/<session_id>_<category>.jsonl; the session ID is
// the UTC start time, 20060102_150405, plus "_2", "_3", ... if taken.
// <session_id>_session.jsonl starts with session_start and ends, at Close,
// with session_end (per-category counts). Execution trace snapshots,
// <session_id>_execution_trace_NNN.trace, count in the disk budget.
//
// # Line format
//
// Each line is one JSON object with, in order: session_id, timestamp (UTC,
// nine-digit fraction and Z, so string order is time order; omitted for a
// zero time), elapsed_seconds (six decimals), level, category, msg, then
// request_id, trace_id and span_id from Options.Stamp (a record's own
// request_id wins), then the bound and the record's attributes in call
// order, groups as nested objects:
//
//	{"session_id":"20261126_101715","timestamp":"2026-11-26T10:17:16.587114000Z","elapsed_seconds":0.902135,"level":"DEBUG","category":"requests","msg":"request","method":"GET","path":"/ace/getstream","duration_ms":5210.5,"status_code":200,"ace_id":"abc"}
//
// A time.Duration k is written as "k_ms" (exact to the nanosecond); an
// error as its message; NaN and ±Inf as "NaN", "+Inf", "-Inf"; invalid
// UTF-8 as U+FFFD; control characters escaped, so no value can break a
// line. A line over Options.MaxLineBytes is cut at an attribute (or inside
// a string) and marked "truncated": true; it stays valid JSON. File names
// use SanitizeCategory, so no category can name a file outside Dir.
//
// # Delivery
//
// Handle encodes in the caller's goroutine and queues the line; one writer
// goroutine writes each category's lines with one write call. Flush returns
// once everything handled before it is in the files; Close writes all that
// is queued. A caller finding the queue full waits for the writer (handing
// it its processor), so a burst is slowed, not lost; only when a write
// takes over 100 ms (a hung disk) is the newest record dropped and counted,
// unless Options.BlockWhenFull. A crash loses at most Options.FlushInterval.
//
// # Failures
//
// A failed write loses only whole lines, counted as failed. A panic inside
// the handler is recovered, never reaching the host; the records it hit
// are counted as failed. Both are reported through Options.OnError on a
// goroutine of its own, so a blocked console holds up nothing.
package handler
