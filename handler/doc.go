// Package handler provides the category handler of debugmode: a
// slog.Handler that persists records carrying a "category" attribute as
// JSON Lines, one file per category, asynchronously and with a bounded
// queue.
//
// # Files
//
// A session writes <Dir>/<session_id>_<category>.jsonl. The session ID is
// the UTC start time, 20060102_150405, with "_2", "_3", ... added when that
// session's files already exist. <session_id>_session.jsonl starts with a
// session_start line (pid, hostname, versions, log directory, configuration)
// and ends with session_end (records written, dropped and failed per
// category, bytes) when the handler is closed. Execution trace snapshots
// (slogdebug's recorder) are <session_id>_execution_trace_001.trace, 002,
// ...: counted in the disk budget and deleted with the session.
//
// # Line format
//
// Each line is one JSON object with, in this order: session_id, timestamp
// (the record's time in UTC with a nine-digit fraction and a Z, so string
// order is time order; omitted when the record's time is zero),
// elapsed_seconds (since the session started, six decimals), level,
// category, msg, then request_id, trace_id and span_id when Options.Stamp
// reads them from the record's context (slogdebug reads package reqid's
// IDs and the OpenTelemetry span; a request_id attribute of the record's
// own wins), then the attributes bound with WithAttrs/WithGroup and the
// record's own, in call order, groups as nested objects:
//
//	{"session_id":"20261126_101715","timestamp":"2026-11-26T10:17:16.587114000Z","elapsed_seconds":0.902135,"level":"DEBUG","category":"requests","msg":"request","method":"GET","path":"/ace/getstream","duration_ms":5210.5,"status_code":200,"ace_id":"abc"}
//
// A time.Duration attribute k is written as "k_ms" in milliseconds (exact
// to the nanosecond); an error as its message; NaN and ±Inf as the strings
// "NaN", "+Inf" and "-Inf"; invalid UTF-8 as U+FFFD; control characters
// escaped, so no value can break a line. A line longer than
// Options.MaxLineBytes is cut at an attribute (or inside a string) and
// marked "truncated": true; it stays valid JSON. The category's file name
// component is SanitizeCategory of its value, so nothing a caller passes
// can name a file outside the directory.
//
// # Delivery
//
// Handle encodes the record in the caller's goroutine and queues the line;
// one writer goroutine writes each category's queued lines with one write
// call. Flush returns once everything handled before it is in the files;
// Close writes everything still queued. A caller that finds the queue full
// waits for the writer (handing it its processor), so a burst is slowed,
// not lost; only when a write takes over 100 ms (a disk that hangs) is the
// newest record dropped and counted (Stats), unless Options.BlockWhenFull
// is set. A crash loses at most the last Options.FlushInterval's lines.
//
// # Failures
//
// A failed write (a full disk) loses only whole lines, counted as failed.
// A panic inside the handler (a bug in it, or in a callback of Options)
// never reaches the host: it is recovered, the records it hit are counted
// as failed (Stats.Panics counts the panics) and the others are written.
// Both are reported through Options.OnError on a goroutine of its own, so
// that a console that blocks never holds up the writer, a caller, Flush or
// Close.
package handler
