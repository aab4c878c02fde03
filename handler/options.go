package handler

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultDir           = "./debug_logs"
	DefaultQueueBytes    = 8 << 20
	DefaultFlushInterval = 200 * time.Millisecond
	DefaultMaxLineBytes  = 64 << 10
	DefaultMaxCategories = 128
	DefaultMaxFileBytes  = 64 << 20
	DefaultMaxTotalBytes = 1 << 30
	DefaultMaxSessions   = 20
	DefaultErrorInterval = 10 * time.Second
	DefaultFileMode      = os.FileMode(0o640)
	DefaultDirMode       = os.FileMode(0o750)

	// minLineBytes is the smallest MaxLineBytes accepted: room for the
	// fixed fields of a line and the truncation mark.
	minLineBytes = 256
)

// Options configure a Handler. The zero value is usable: every field has a
// documented default.
type Options struct {
	// Dir is the directory of the session's files, created (with DirMode)
	// if missing. Default DefaultDir.
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

	// QueueBytes bounds the encoded lines waiting for the writer. Default
	// DefaultQueueBytes.
	QueueBytes int

	// BlockWhenFull makes a caller wait for room when the queue is full.
	// By default the newest record is dropped and counted instead, so that
	// logging never stalls the host.
	BlockWhenFull bool

	// FlushInterval is how often queued lines are written to the files when
	// the queue is not filling up; it bounds what a crash can lose. Default
	// DefaultFlushInterval.
	FlushInterval time.Duration

	// MaxLineBytes caps a line, newline included; a longer record is cut
	// and marked "truncated": true. Default DefaultMaxLineBytes.
	MaxLineBytes int

	// MaxCategories caps the number of category files a session opens;
	// records of further categories go to the OverflowCategory file.
	// Default DefaultMaxCategories.
	MaxCategories int

	// MaxFileBytes caps a category file: past it the file is renamed
	// <session>.NNN_<category>.jsonl (001, 002, ...: they sort before the
	// live file and still match *_<category>.jsonl) and a new one started.
	// Default DefaultMaxFileBytes; -1 for no cap.
	MaxFileBytes int64

	// MaxTotalBytes is the disk budget of the directory's debug files:
	// past it the oldest sessions' files are deleted first, then this
	// session's oldest segments, never a live file. Default
	// DefaultMaxTotalBytes; -1 for no budget.
	MaxTotalBytes int64

	// MaxSessions is how many sessions' files the directory keeps, this
	// one included; older ones are deleted. Default DefaultMaxSessions; -1
	// for all. Only files of the default naming (session IDs that are start
	// times) are ever deleted.
	MaxSessions int

	// Resume continues an earlier session of this directory (SessionID
	// is required): its files are appended to, and the session file gets a
	// debug_enabled line instead of session_start. Debug mode switched back
	// on at run time resumes its session this way.
	Resume bool

	// Sync makes Handle return only once the record is written to its file
	// (in the kernel: a killed process loses nothing). It costs a round trip
	// to the writer per record.
	Sync bool

	// OnError, when set, is told about failed writes (disk full, say) at
	// most once per ErrorInterval, with the number of errors and of lines
	// lost since the last report. It runs on the writer goroutine and must
	// not log to this handler.
	OnError       func(err error, errors, lost uint64)
	ErrorInterval time.Duration // default DefaultErrorInterval

	// FileMode and DirMode are the permissions of new files and
	// directories. Defaults 0640 and 0750.
	FileMode os.FileMode
	DirMode  os.FileMode

	// RedactKeys are attribute keys whose values are replaced by
	// Redacted, besides DefaultRedactKeys, matched the same way (by their
	// last words: see DefaultRedactKeys). What else is redacted is
	// Redactor's to say: RedactText, RedactAttr.
	RedactKeys []string
	// NoRedaction turns redaction off (for a test rig, say).
	NoRedaction bool

	// OnDrop, when set, is called when records were dropped because the
	// queue was full, once per write of the queue that follows them, on the
	// writer goroutine, just after the queue was emptied: a report logged
	// after it has room. It must be quick and must not log (the stress
	// handler's DropsHappened is made for it).
	OnDrop func()

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
	// writeDelay slows every write down; tests of overload set it.
	writeDelay time.Duration
}

// withDefaults returns o with its zero fields set, or an error naming every
// field that is out of range.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Level == nil {
		o.Level = slog.LevelDebug
	}
	if o.Resume && o.SessionID == "" {
		errs = append(errs, errors.New("option Resume: want the SessionID of the session to resume"))
	}
	if o.SessionID != "" && !validSessionID(o.SessionID) {
		errs = append(errs, fmt.Errorf("SessionID %q: want 1 to 64 ASCII letters, digits, '_' or '-'", o.SessionID))
	}
	if o.QueueBytes == 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.MaxLineBytes == 0 {
		o.MaxLineBytes = min(DefaultMaxLineBytes, o.QueueBytes)
	}
	if o.MaxCategories == 0 {
		o.MaxCategories = DefaultMaxCategories
	}
	if o.FileMode == 0 {
		o.FileMode = DefaultFileMode
	}
	if o.DirMode == 0 {
		o.DirMode = DefaultDirMode
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxTotalBytes == 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.ErrorInterval == 0 {
		o.ErrorInterval = DefaultErrorInterval
	}
	if o.Sync {
		o.BlockWhenFull = true // a synchronous record is never dropped
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.QueueBytes < minLineBytes {
		errs = append(errs, fmt.Errorf("QueueBytes %d: want at least %d", o.QueueBytes, minLineBytes))
	}
	if o.FlushInterval < 0 {
		errs = append(errs, fmt.Errorf("FlushInterval %v: want a positive duration", o.FlushInterval))
	}
	if o.MaxLineBytes < minLineBytes || o.MaxLineBytes > o.QueueBytes {
		errs = append(errs, fmt.Errorf("MaxLineBytes %d: want %d to QueueBytes (%d)", o.MaxLineBytes, minLineBytes, o.QueueBytes))
	}
	if o.MaxFileBytes > 0 && o.MaxFileBytes < int64(o.MaxLineBytes) {
		errs = append(errs, fmt.Errorf("MaxFileBytes %d: want -1 (no cap) or at least MaxLineBytes (%d)", o.MaxFileBytes, o.MaxLineBytes))
	}
	if o.MaxTotalBytes > 0 && o.MaxFileBytes > 0 && o.MaxTotalBytes < 2*o.MaxFileBytes {
		errs = append(errs, fmt.Errorf("MaxTotalBytes %d: want -1 (no budget) or at least twice MaxFileBytes (%d)", o.MaxTotalBytes, o.MaxFileBytes))
	}
	if o.MaxCategories < 1 {
		errs = append(errs, fmt.Errorf("MaxCategories %d: want at least 1", o.MaxCategories))
	}
	if o.FileMode&^os.ModePerm != 0 || o.DirMode&^os.ModePerm != 0 {
		errs = append(errs, fmt.Errorf("FileMode %v, DirMode %v: want permission bits only", o.FileMode, o.DirMode))
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
