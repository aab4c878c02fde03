package handler

import (
	"cmp"
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

	// SessionID names the session's files: ASCII letters, digits, '_' and
	// '-'. Default: the UTC start time as 20060102_150405. If files of that
	// session already exist in Dir, "_2", "_3", ... is added.
	SessionID string

	// Level is the minimum level persisted. Default slog.LevelDebug.
	Level slog.Leveler

	// DefaultCategory receives records that carry no category. Empty (the
	// default): such records are not persisted.
	DefaultCategory string

	// QueueBytes bounds the records waiting for the writer; records at Warn
	// and above have a reserve of a quarter more. Default 8 MiB, 256 bytes
	// to 1 GiB.
	QueueBytes int

	// BlockWhenFull makes a caller wait for room when the queue is full;
	// by default the newest record is dropped and counted, so that logging
	// never stalls the host. Either way a caller that leaves the queue more
	// than half full yields its processor once, not to starve the writer.
	BlockWhenFull bool

	// FlushInterval is how often queued lines are written when the queue is
	// not filling up: it bounds what a crash loses. Default 200ms, 1ms to 1h.
	FlushInterval time.Duration

	// MaxLineBytes caps a line, newline included; a longer record is cut
	// and marked "truncated": true. Default 64 KiB (at most QueueBytes),
	// 256 bytes to 16 MiB.
	MaxLineBytes int

	// MaxCategories caps the category files a session opens; further
	// categories' records go to the "overflow" file (their lines keep their
	// category). Default 128, at most 1024 and a quarter of the open-file
	// limit.
	MaxCategories int

	// MaxFileBytes caps a category file: past it the file is renamed
	// <session>.NNN_<category>.jsonl (001, 002, ...: they sort before the
	// live file and still match *_<category>.jsonl) and a new one started.
	// Default 64 MiB, at most 1 TiB; -1 for no cap.
	MaxFileBytes int64

	// MaxTotalBytes is the disk budget of the directory's debug files: past
	// it the oldest sessions' files are deleted, then this session's oldest
	// segments, never a live file. Default 1 GiB, at most 1 TiB; -1 for
	// none.
	MaxTotalBytes int64

	// MaxSessions is how many sessions' files the directory keeps, this one
	// included; older ones are deleted. Default 20; -1 for all. Only
	// sessions of the default naming (start times) are ever deleted.
	MaxSessions int

	// Resume continues the session of that handler, closed by then
	// (CloseWith): its Dir, SessionID and SessionStart, its files appended
	// to, its segments numbered on; the session file gets debug_enabled
	// instead of session_start, and Stats and session_end count the
	// session's totals. New fails when another handler holds the session.
	Resume *Handler
	// EndOnly, with Resume, makes a handler only to end the session with
	// Close (session_end, as the resumed handler's Close would have written
	// it), without debug_enabled: for a program that ends while debug mode
	// is off.
	EndOnly bool

	// SessionStart is when the session started: elapsed_seconds counts from
	// it, session_start carries it and, without SessionID, the session is
	// named after it. Default: when New is called. It may be earlier (for
	// records kept in memory before), not later.
	SessionStart time.Time

	// Sync makes Handle return only once the record is written to its file
	// (in the kernel: a killed process loses nothing), at the cost of a
	// round trip to the writer per record.
	Sync bool

	// OnError is told of failed writes (disk full, say) and recovered
	// panics at most once per ErrorInterval (the first panic at once, and
	// what is left at Close), with the failures and the lines lost since
	// the last call. It runs on a goroutine of its own, one call at a time,
	// so that a stuck console holds up nothing: failures meanwhile are
	// merged into the next call. Close waits for its last call at most a
	// second. It must not log to this handler.
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

	// OnDrop is called when records were dropped for a full queue, once per
	// write of the queue that follows, on the writer goroutine, just after
	// the queue was emptied. It must be quick and must not log (the stress
	// handler's DropsHappened is made for it).
	OnDrop func()

	// Stamp reads from a record's context what its line carries after msg:
	// its request's ID (request_id; "" for none) and its trace span
	// (trace_id and span_id in lower-case hex; an all-zero traceID for
	// none). A record or logger with a request_id of its own (not in a
	// group) is not stamped. It is called on the logging goroutine for
	// every record: it must be quick and safe for concurrent use.
	Stamp func(ctx context.Context) (requestID string, traceID [16]byte, spanID [8]byte)

	// Version is the host program's version, written in session_start.
	// Default: the main module's version from its build information.
	Version string

	// SessionAttrs are added to session_start in a group "config", beside
	// the group "options" that holds these Options with their defaults.
	SessionAttrs []slog.Attr

	// EndAttrs is called as the session file's last line of a Close
	// (session_end, or CloseWith's event) is written, on the writer
	// goroutine; the attributes it returns follow the handler's own counts.
	// It must be quick and must not log to this handler; a panic in it is
	// recovered and the line written without them.
	EndAttrs func() []slog.Attr

	now   func() time.Time // the clock; tests set it
	hooks *testHooks       // the tests' way in (hooks.go); nil outside tests
}

// Validate reports every field of o that is out of range once the
// defaults are applied, each naming the field, its value and what is
// accepted, joined (errors.Join): the checks New makes, for a
// configuration to be checked at start-up, not when debug mode is
// switched on.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults returns o with its zero fields set, or an error naming every
// field that is out of range.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	check := func(ok bool, field string, value any, want string, args ...any) bool {
		if !ok {
			errs = append(errs, &config.OptionError{Field: field, Value: value, Want: fmt.Sprintf(want, args...)})
		}
		return ok
	}
	if o.now == nil {
		o.now = time.Now
	}
	fdLimit := config.CategoriesLimit()
	lineDefaulted := o.MaxLineBytes == 0
	orDefault(&o.Dir, config.DefaultDir)
	orDefault(&o.Level, slog.Leveler(slog.LevelDebug))
	orDefault(&o.QueueBytes, config.DefaultQueueBytes)
	orDefault(&o.FlushInterval, config.DefaultFlushInterval)
	orDefault(&o.MaxLineBytes, min(config.DefaultMaxLineBytes, o.QueueBytes))
	orDefault(&o.MaxCategories, min(config.DefaultMaxCategories, fdLimit))
	orDefault(&o.FileMode, config.DefaultFileMode)
	orDefault(&o.DirMode, config.DefaultDirMode)
	orDefault(&o.MaxFileBytes, config.DefaultMaxFileBytes)
	orDefault(&o.MaxTotalBytes, config.DefaultMaxTotalBytes)
	orDefault(&o.MaxSessions, config.DefaultMaxSessions)
	orDefault(&o.ErrorInterval, config.DefaultErrorInterval)
	if o.Sync {
		o.BlockWhenFull = true // a synchronous record is never dropped
	}
	if r := o.Resume; r != nil {
		o.Dir, o.SessionID, o.SessionStart = r.s.dir, r.s.sessionID, r.s.start
	}
	check(o.Resume != nil || !o.EndOnly, "EndOnly", o.EndOnly, "false, unless Resume is set")
	now := o.now()
	check(!o.SessionStart.After(now), "SessionStart", o.SessionStart, "a time not after now (%v)", now)
	check(o.SessionID == "" || validSessionID(o.SessionID), "SessionID", o.SessionID, "1 to 64 ASCII letters, digits, '_' or '-'")
	queueOK := check(inRange(o.QueueBytes, config.MinQueueBytes, config.MaxQueueBytes),
		"QueueBytes", o.QueueBytes, "%d to %d bytes", config.MinQueueBytes, config.MaxQueueBytes)
	check(inRange(o.FlushInterval, config.MinFlushInterval, config.MaxFlushInterval),
		"FlushInterval", o.FlushInterval, "%v to %v", config.MinFlushInterval, config.MaxFlushInterval)
	check(lineDefaulted && !queueOK || inRange(o.MaxLineBytes, config.MinLineBytes, min(config.MaxLineBytes, o.QueueBytes)),
		"MaxLineBytes", o.MaxLineBytes, "%d to %d bytes, and at most QueueBytes (%d)", config.MinLineBytes, config.MaxLineBytes, o.QueueBytes)
	check(o.MaxFileBytes == -1 || inRange(o.MaxFileBytes, int64(o.MaxLineBytes), config.MaxFileBytes),
		"MaxFileBytes", o.MaxFileBytes, "-1 (no cap) or MaxLineBytes (%d) to %d bytes", o.MaxLineBytes, int64(config.MaxFileBytes))
	if check(o.MaxTotalBytes == -1 || inRange(o.MaxTotalBytes, 1, config.MaxFileBytes),
		"MaxTotalBytes", o.MaxTotalBytes, "-1 (no budget) or up to %d bytes", int64(config.MaxFileBytes)) {
		check(o.MaxTotalBytes < 0 || o.MaxFileBytes < 0 || o.MaxTotalBytes >= 2*o.MaxFileBytes,
			"MaxTotalBytes", o.MaxTotalBytes, "-1 (no budget) or at least twice MaxFileBytes (%d)", o.MaxFileBytes)
	}
	check(o.MaxSessions == -1 || o.MaxSessions >= 1, "MaxSessions", o.MaxSessions, "-1 (keep all) or at least 1")
	check(inRange(o.MaxCategories, 1, fdLimit), "MaxCategories", o.MaxCategories,
		"1 to %d (each is an open file; at most %d, and a quarter of this process's open-file limit)", fdLimit, config.MaxCategories)
	check(o.FileMode&^os.ModePerm == 0 && o.FileMode&0o600 == 0o600, "FileMode", o.FileMode,
		"permission bits that let the owner read and write (0600 at least), such as 0640")
	check(o.DirMode&^os.ModePerm == 0 && o.DirMode&0o700 == 0o700, "DirMode", o.DirMode,
		"permission bits that let the owner list, create and remove (0700 at least), such as 0750")
	check(o.ErrorInterval >= 0, "ErrorInterval", o.ErrorInterval, "a positive duration")
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("handler: invalid options: %w", err)
	}
	return o, nil
}

// orDefault sets *p to def if it is zero.
func orDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// inRange reports whether lo <= v <= hi.
func inRange[T cmp.Ordered](v, lo, hi T) bool { return v >= lo && v <= hi }

// validSessionID reports whether s is 1 to 64 ASCII letters, digits, '_'
// or '-'.
func validSessionID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isNameByte(c) && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != "" && len(s) <= 64
}
