package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/proxydebug/debugmode/internal/config"
)

// Options configure a Handler. The zero value is usable: every field has a
// documented default.
type Options struct {
	// Dir is the directory of the session's files, created (with DirMode)
	// if missing. Default "./debug_logs".
	Dir string

	// SessionID names the session's files. Default: the UTC start time as
	// 20060102_150405. It may hold ASCII letters, digits, '_' and '-'. If
	// files of that session already exist in Dir, "_2", "_3", ... is added.
	SessionID string

	// Level is the minimum level persisted. Default slog.LevelDebug.
	Level slog.Leveler

	// DefaultCategory receives records that carry no category. Empty (the
	// default) means such records are not persisted.
	DefaultCategory string

	// QueueBytes bounds the records waiting for the writer. Records at
	// Warn and above (stress events) have a reserve of a quarter more, that
	// debug records cannot fill. Default 8 MiB, 256 bytes to 1 GiB.
	QueueBytes int

	// BlockWhenFull makes a caller wait for room when the queue is full.
	// By default the newest record is dropped and counted instead, so that
	// logging never stalls the host. Either way a caller that leaves the
	// queue more than half full yields its processor once, without
	// waiting, so that busy callers cannot starve the writer.
	BlockWhenFull bool

	// FlushInterval is how often queued lines are written to the files when
	// the queue is not filling up; it bounds what a crash can lose. Default
	// 200ms, 1ms to 1h.
	FlushInterval time.Duration

	// MaxLineBytes caps a line, newline included; a longer record is cut
	// and marked "truncated": true. Default 64 KiB (at most QueueBytes),
	// 256 bytes to 16 MiB.
	MaxLineBytes int

	// MaxCategories caps the number of category files a session opens;
	// records of further categories go to the "overflow" category file
	// (their lines keep their own category).
	// Default 128, at most 1024 and a quarter of the open-file limit.
	MaxCategories int

	// MaxFileBytes caps a category file: past it the file is renamed
	// <session>.NNN_<category>.jsonl (001, 002, ...: they sort before the
	// live file and still match *_<category>.jsonl) and a new one started.
	// Default 64 MiB, at most 1 TiB; -1 for no cap.
	MaxFileBytes int64

	// MaxTotalBytes is the disk budget of the directory's debug files:
	// past it the oldest sessions' files are deleted first, then this
	// session's oldest segments, never a live file. Default 1 GiB, at
	// most 1 TiB; -1 for no budget.
	MaxTotalBytes int64

	// MaxSessions is how many sessions' files the directory keeps, this
	// one included; older ones are deleted. Default 20; -1 for all. Only
	// files of the default naming (session IDs that are start times) are
	// ever deleted.
	MaxSessions int

	// Resume, when set, continues the session of that handler, closed by
	// then (CloseWith): Dir, SessionID and SessionStart are its; its files
	// are appended to, its rotated segments are numbered on from those on
	// disk, the session file gets a debug_enabled line instead of
	// session_start, and Stats and the session file's last line count the
	// session's totals. Debug mode switched back on at run time resumes
	// its session this way. New fails when another handler holds the
	// session.
	Resume *Handler
	// EndOnly, with Resume, makes a handler only to end the session with
	// Close (session_end, as the resumed handler's Close would have
	// written it): it writes no debug_enabled line. A program that ends
	// while debug mode is off still ends its session this way.
	EndOnly bool

	// SessionStart is when the session started: every line's
	// elapsed_seconds counts from it, session_start carries it as its time
	// and, without SessionID, the session is named after it. Default: when
	// New is called. It may be earlier (a session whose first lines are
	// records kept in memory starts at or before the earliest of them), not
	// later.
	SessionStart time.Time

	// Sync makes Handle return only once the record is written to its file
	// (in the kernel: a killed process loses nothing). It costs a round trip
	// to the writer per record.
	Sync bool

	// OnError, when set, is told about failed writes (disk full, say) and
	// recovered panics at most once per ErrorInterval (the first panic at
	// once, and what is left at Close), with the number of failures and of
	// lines lost since the last report. It runs on a goroutine of its own,
	// one call at a time, so that a slow or stuck console never holds up
	// the writer or a logging caller: failures meanwhile are merged into
	// the next call. Close waits for its last call at most a second. It
	// must not log to this handler.
	OnError       func(err error, errors, lost uint64)
	ErrorInterval time.Duration // default 10s

	// FileMode and DirMode are the permissions of new files and
	// directories. Defaults 0640 and 0750.
	FileMode os.FileMode
	DirMode  os.FileMode

	// RedactKeys are attribute keys whose values are written as
	// "[REDACTED]", besides the default ones (authorization, api_key,
	// token, password, secret, cookie, ...). A key matches by its last
	// words, in any case: "token" matches access_token, accessToken and
	// X-Auth-Token, not tokens. Credentials in text (the user info of a
	// URL, secret key=value pairs) are redacted too.
	RedactKeys []string
	// NoRedaction turns redaction off (for a test rig, say).
	NoRedaction bool

	// OnDrop, when set, is called when records were dropped because the
	// queue was full, once per write of the queue that follows them, on the
	// writer goroutine, just after the queue was emptied: a report logged
	// after it has room. It must be quick and must not log (the stress
	// handler's DropsHappened is made for it).
	OnDrop func()

	// Stamp, when set, reads from the context of each record what its
	// line carries after msg: the ID of the request it was logged for
	// (request_id; "" for none) and the trace span it was logged in
	// (trace_id and span_id, W3C trace context, written as lower-case hex;
	// an all-zero traceID for none). A record or a logger with a
	// request_id of its own (not in a group) is not stamped: its line
	// names another request. It is called on the logging goroutine for
	// every record, and must be quick and safe for concurrent use. The
	// slogdebug facade reads the IDs of package reqid and the
	// OpenTelemetry span.
	Stamp func(ctx context.Context) (requestID string, traceID [16]byte, spanID [8]byte)

	// Version is the host program's version, written in session_start.
	// Default: the main module's version from its build information.
	Version string

	// SessionAttrs are added to the session_start line in a group named
	// "config", beside the group "options" that holds these Options with
	// their defaults applied (the slogdebug facade puts its console
	// settings here).
	SessionAttrs []slog.Attr

	// EndAttrs, when set, is called as the session file's last line of a
	// Close is written (session_end, or the event of CloseWith:
	// debug_disabled, ...), on the writer goroutine, after the last record
	// was written; the attributes it returns are added to that line after
	// the handler's own counts (the slogdebug facade adds the stress
	// events' counts). It must be quick and must not log to this handler;
	// a panic in it is recovered and the line written without its
	// attributes.
	EndAttrs func() []slog.Attr

	// now is the clock; tests set it.
	now func() time.Time
	// hooks are the tests' way in (hooks.go); nil outside tests.
	hooks *testHooks
}

// Validate reports every field of o that is out of range once the
// defaults are applied, each naming the field, its value and what is
// accepted, joined (errors.Join): the checks New makes, for a
// configuration to be checked before a handler is needed (at start-up, not
// when debug mode is switched on).
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults returns o with its zero fields set, or an error naming every
// field that is out of range.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	bad := func(field string, value any, want string) {
		errs = append(errs, &config.OptionError{Field: field, Value: value, Want: want})
	}
	if o.Dir == "" {
		o.Dir = config.DefaultDir
	}
	if o.Level == nil {
		o.Level = slog.LevelDebug
	}
	if o.now == nil {
		o.now = time.Now
	}
	if r := o.Resume; r != nil {
		o.Dir, o.SessionID, o.SessionStart = r.s.dir, r.s.sessionID, r.s.start
	} else if o.EndOnly {
		bad("EndOnly", o.EndOnly, "false, unless Resume is set")
	}
	if now := o.now(); o.SessionStart.After(now) {
		bad("SessionStart", o.SessionStart, fmt.Sprintf("a time not after now (%v)", now))
	}
	if o.SessionID != "" && !validSessionID(o.SessionID) {
		bad("SessionID", o.SessionID, "1 to 64 ASCII letters, digits, '_' or '-'")
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = config.DefaultQueueBytes
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = config.DefaultFlushInterval
	}
	lineDefaulted := o.MaxLineBytes == 0
	if lineDefaulted {
		o.MaxLineBytes = min(config.DefaultMaxLineBytes, o.QueueBytes)
	}
	fdLimit := config.CategoriesLimit()
	if o.MaxCategories == 0 {
		o.MaxCategories = min(config.DefaultMaxCategories, fdLimit)
	}
	if o.FileMode == 0 {
		o.FileMode = config.DefaultFileMode
	}
	if o.DirMode == 0 {
		o.DirMode = config.DefaultDirMode
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = config.DefaultMaxFileBytes
	}
	if o.MaxTotalBytes == 0 {
		o.MaxTotalBytes = config.DefaultMaxTotalBytes
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = config.DefaultMaxSessions
	}
	if o.ErrorInterval == 0 {
		o.ErrorInterval = config.DefaultErrorInterval
	}
	if o.Sync {
		o.BlockWhenFull = true // a synchronous record is never dropped
	}
	queueOK := o.QueueBytes >= config.MinQueueBytes && o.QueueBytes <= config.MaxQueueBytes
	if !queueOK {
		bad("QueueBytes", o.QueueBytes, fmt.Sprintf("%d to %d bytes", config.MinQueueBytes, config.MaxQueueBytes))
	}
	if o.FlushInterval < config.MinFlushInterval || o.FlushInterval > config.MaxFlushInterval {
		bad("FlushInterval", o.FlushInterval, fmt.Sprintf("%v to %v", config.MinFlushInterval, config.MaxFlushInterval))
	}
	if (queueOK || !lineDefaulted) && (o.MaxLineBytes < config.MinLineBytes || o.MaxLineBytes > min(config.MaxLineBytes, o.QueueBytes)) {
		bad("MaxLineBytes", o.MaxLineBytes, fmt.Sprintf("%d to %d bytes, and at most QueueBytes (%d)", config.MinLineBytes, config.MaxLineBytes, o.QueueBytes))
	}
	switch {
	case o.MaxFileBytes < 0 && o.MaxFileBytes != -1, o.MaxFileBytes > config.MaxFileBytes,
		o.MaxFileBytes > 0 && o.MaxFileBytes < int64(o.MaxLineBytes):
		bad("MaxFileBytes", o.MaxFileBytes, fmt.Sprintf("-1 (no cap) or MaxLineBytes (%d) to %d bytes", o.MaxLineBytes, int64(config.MaxFileBytes)))
	}
	switch {
	case o.MaxTotalBytes < 0 && o.MaxTotalBytes != -1, o.MaxTotalBytes > config.MaxFileBytes:
		bad("MaxTotalBytes", o.MaxTotalBytes, fmt.Sprintf("-1 (no budget) or up to %d bytes", int64(config.MaxFileBytes)))
	case o.MaxTotalBytes > 0 && o.MaxFileBytes > 0 && o.MaxTotalBytes < 2*o.MaxFileBytes:
		bad("MaxTotalBytes", o.MaxTotalBytes, fmt.Sprintf("-1 (no budget) or at least twice MaxFileBytes (%d)", o.MaxFileBytes))
	}
	if o.MaxSessions < 1 && o.MaxSessions != -1 {
		bad("MaxSessions", o.MaxSessions, "-1 (keep all) or at least 1")
	}
	if o.MaxCategories < 1 || o.MaxCategories > fdLimit {
		bad("MaxCategories", o.MaxCategories, fmt.Sprintf("1 to %d (each is an open file; at most %d, and a quarter of this process's open-file limit)", fdLimit, config.MaxCategories))
	}
	if o.FileMode&^os.ModePerm != 0 || o.FileMode&0o600 != 0o600 {
		bad("FileMode", o.FileMode, "permission bits that let the owner read and write (0600 at least), such as 0640")
	}
	if o.DirMode&^os.ModePerm != 0 || o.DirMode&0o700 != 0o700 {
		bad("DirMode", o.DirMode, "permission bits that let the owner list, create and remove (0700 at least), such as 0750")
	}
	if o.ErrorInterval < 0 {
		bad("ErrorInterval", o.ErrorInterval, "a positive duration")
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("handler: invalid options: %w", err)
	}
	return o, nil
}

func validSessionID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
