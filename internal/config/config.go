// Package config holds the defaults and bounds of handler.Options and
// slogdebug.Config, below the packages that use them, and what both
// report a bad setting with (OptionError, CheckDir). README.md's table of
// environment variables is the reference for what each setting accepts;
// slogdebug's table of variables (envVars) is tested against it.
package config

import (
	"os"
	"time"
)

// The defaults of the zero fields of handler.Options (and of the Config
// fields that set them).
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
)

// The bounds of handler.Options, beyond which Options.Validate refuses a
// value.
const (
	// A shorter flush interval keeps a core busy writing; a longer one lets
	// a crash lose more than anyone wants.
	MinFlushInterval = time.Millisecond
	MaxFlushInterval = time.Hour
	// MinLineBytes is the shortest line limit: room for the fixed fields
	// of a line and the truncation mark. The queue holds one line at least.
	MinLineBytes  = 256
	MaxLineBytes  = 16 << 20
	MinQueueBytes = MinLineBytes
	MaxQueueBytes = 1 << 30
	// MaxCategories bounds the category files a session opens; a quarter
	// of the process's open-file limit bounds them too.
	MaxCategories = 1024
	// MaxFileBytes bounds a file's cap and the directory's budget (1 TiB).
	MaxFileBytes = 1 << 40
)

// The defaults and bounds of the slogdebug.Config fields that the handler
// does not take; a zero field is off or the default.
const (
	MinFlightRecorder             = time.Second
	MaxFlightRecorder             = 24 * time.Hour
	DefaultFlightRecorderBytes    = 16 << 20
	MinFlightRecorderBytes        = 64 << 10
	MaxFlightRecorderBytes        = 1 << 30
	MaxStressCooldown             = 24 * time.Hour
	MinExecutionTrace             = time.Second
	MaxExecutionTrace             = time.Hour
	DefaultExecutionTraceBytes    = 16 << 20
	MinExecutionTraceBytes        = 1 << 20
	MaxExecutionTraceBytes        = 1 << 30
	DefaultExecutionTraceCooldown = time.Minute
	MinExecutionTraceCooldown     = time.Second
	MaxExecutionTraceCooldown     = 24 * time.Hour
)
