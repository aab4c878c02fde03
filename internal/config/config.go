// Package config holds the defaults, bounds and errors of the module's options,
// and the stress rate parser; README.md's table is the reference.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// The defaults of the zero fields of handler.Options (and Config's).
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

// The bounds of handler.Options, beyond which Options.Validate refuses a value.
const (
	// Shorter flushing keeps a core busy; longer lets a crash lose too much.
	MinFlushInterval = time.Millisecond
	MaxFlushInterval = time.Hour
	// MinLineBytes leaves room for a line's fixed fields and truncation mark.
	MinLineBytes  = 256
	MaxLineBytes  = 16 << 20
	MinQueueBytes = MinLineBytes
	MaxQueueBytes = 1 << 30
	// MaxCategories bounds a session's category files (so does the fd limit).
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
	DefaultGoroutinesCooldown     = time.Minute
	MinExecutionTraceCooldown     = time.Second
	MaxExecutionTraceCooldown     = 24 * time.Hour
)

// The defaults of package stress's rules (and Config's).
const (
	DefaultStressCooldown      = 30 * time.Second
	DefaultSlowRequest         = 5 * time.Second
	DefaultSlowEngineSelection = 2 * time.Second
	DefaultSlowRequestRate     = "10/1m"
	DefaultProvisioningRate    = "5/1m"
	// MaxRateCount is the largest count of a rate.
	MaxRateCount = 1<<16 - 1
	// DefaultStallThreshold is how long a stream may go without bytes
	// before stream_stalled fires; a threshold is within Min..Max.
	DefaultStallThreshold = 5 * time.Second
	MinStallThreshold     = 100 * time.Millisecond
	MaxStallThreshold     = time.Hour
)

// Rate is a sliding-window rule of package stress: more than Count events within Window.
type Rate struct {
	Count  int
	Window time.Duration
}

// String returns the rate as "10/1m0s", the form ParseRate reads.
func (r Rate) String() string { return fmt.Sprintf("%d/%v", r.Count, r.Window) }

// ParseRate reads "10/1m": a count from 1 to MaxRateCount and a positive Go
// duration. Its errors say what it wants ("want ...").
func ParseRate(s string) (Rate, error) {
	count, window, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, errors.New("want COUNT/WINDOW, such as 10/1m")
	}
	var r Rate
	if _, err := fmt.Sscan(count, &r.Count); err != nil || r.Count < 1 {
		return Rate{}, errors.New("want a count of at least 1, such as 10/1m")
	}
	d, err := time.ParseDuration(strings.TrimSpace(window))
	if err != nil || d <= 0 {
		return Rate{}, errors.New("want a positive window, such as 10/1m")
	}
	r.Window = d
	if r.Count > MaxRateCount {
		return Rate{}, fmt.Errorf("want a count of 1 to %d and a positive window, such as 10/1m", MaxRateCount)
	}
	return r, nil
}
