package stress

import "log/slog"

// Severity is how bad a stress event is, as the orchestrator writes it:
// info, warning or critical.
type Severity string

// The severities of stress events.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Level is the slog level an event of severity s is logged at: Error for
// critical, Warn for warning, Info otherwise. Warning and critical events
// therefore show on a console at Info.
func (s Severity) Level() slog.Level {
	switch s {
	case SeverityCritical:
		return slog.LevelError
	case SeverityWarning:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
