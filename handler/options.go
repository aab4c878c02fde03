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
	// Dir holds the session's files, created if missing. Default "./debug_logs".
	Dir string

	// SessionID names the session's files: ASCII letters, digits, '_', '-'.
	// Default: the UTC start time, plus "_2", "_3", ... if taken.
	SessionID string

	// Level is the minimum level persisted. Default slog.LevelDebug.
	Level slog.Leveler

	// DefaultCategory receives uncategorized records; empty drops them.
	DefaultCategory string

	// QueueBytes bounds the queue (Warn and above get a quarter more, and
	// at least four MaxLineBytes more).
	// Default 8 MiB, 256 bytes to 1 GiB.
	QueueBytes int

	// BlockWhenFull makes a caller wait for room on a hung disk instead of
	// dropping the newest record, which by default keeps the host unstalled.
	BlockWhenFull bool

	// FlushInterval bounds what a crash loses. Default 200ms, 1ms to 1h.
	FlushInterval time.Duration

	// MaxLineBytes caps a line, newline included (longer ones are cut).
	// Default 64 KiB (at most QueueBytes), 256 bytes to 16 MiB.
	MaxLineBytes int

	// MaxCategories caps the open category files; the rest go to "overflow".
	// Default 128, at most 1024 and a quarter of the open-file limit.
	MaxCategories int

	// MaxFileBytes caps a category file, rotated to <session>.NNN_<category>.jsonl.
	// Default 64 MiB, at most 1 TiB; -1 for no cap.
	MaxFileBytes int64

	// MaxTotalBytes is the directory's disk budget: oldest sessions go first,
	// then this one's segments, never a live file. Default 1 GiB; -1 for none.
	MaxTotalBytes int64

	// MaxSessions is how many sessions the directory keeps (only default-named
	// ones are deleted). Default 20; -1 for all.
	MaxSessions int

	// Resume continues the closed handler's session (debug_enabled instead
	// of session_start; Stats count the session's totals).
	Resume *Handler
	// EndOnly, with Resume, only ends the session at Close, without
	// debug_enabled: for a program that ends while debug mode is off.
	EndOnly bool

	// SessionStart is the session's start (default: New's call); not in the future.
	SessionStart time.Time

	// Sync makes Handle return once the record is in the kernel (a killed
	// process loses nothing), at a round trip to the writer per record.
	Sync bool

	// OnError is told of failed writes and recovered panics at most once per
	// ErrorInterval, on a goroutine of its own so a stuck console holds up
	// nothing (Close waits a second at most). It must not log to this handler.
	OnError       func(err error, errors, lost uint64)
	ErrorInterval time.Duration // default 10s

	// FileMode and DirMode default to 0640 and 0750.
	FileMode os.FileMode
	DirMode  os.FileMode

	// RedactKeys adds keys whose values are "[REDACTED]" to the defaults; a
	// key matches by its last words in any case ("token": accessToken).
	// Credentials inside text (URL user info, key=value pairs) are redacted too.
	RedactKeys []string
	// NoRedaction turns redaction off (for a test rig, say).
	NoRedaction bool

	// OnDrop is called on the writer after a write that follows drops.
	// It must be quick and must not log.
	OnDrop func()

	// Stamp reads request_id ("" for none) and trace span (zero for none)
	// from a record's context. It must be quick and concurrency-safe.
	Stamp func(ctx context.Context) (requestID string, traceID [16]byte, spanID [8]byte)

	// Version goes in session_start. Default: the main module's version.
	Version string

	// SessionAttrs are added to session_start in a group "config".
	SessionAttrs []slog.Attr

	// EndAttrs adds attributes to the session file's last line, on the
	// writer goroutine. It must be quick and must not log to this handler.
	EndAttrs func() []slog.Attr

	now   func() time.Time // the clock; tests set it
	hooks *testHooks       // the tests' way in (hooks.go); nil outside tests
}

// Validate reports, joined, every field of o out of range once defaulted:
// New's checks, to run at start-up rather than when debug mode turns on.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults returns o with its zero fields set, or the fields out of range.
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
		o.Dir, o.SessionID, o.SessionStart = r.s.ld.path, r.s.sessionID, r.s.start
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

func orDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

func inRange[T cmp.Ordered](v, lo, hi T) bool { return v >= lo && v <= hi }

// validSessionID reports whether s is 1 to 64 of [A-Za-z0-9_-].
func validSessionID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isNameByte(c) && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != "" && len(s) <= 64
}
