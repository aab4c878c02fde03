package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/proxydebug/debugmode/internal/safeerr"
)

// The categories the typed helpers write. Any other name works with plain
// slog: logger.With("category", "my_category").
const (
	CategorySession            = "session"
	CategoryRequests           = "requests"
	CategoryEngineSelection    = "engine_selection"
	CategoryProvisioning       = "provisioning"
	CategoryOrchestratorHealth = "orchestrator_health"
	CategoryStreams            = "streams"
	CategoryStress             = "stress"
	CategoryErrors             = "errors"
	CategoryDisconnects        = "disconnects"
)

type categoryIndex int

const (
	idxRequests categoryIndex = iota
	idxEngineSelection
	idxProvisioning
	idxOrchestratorHealth
	idxStreams
	idxStress
	idxErrors
	idxDisconnects
	numCategories
)

var categoryNames = [numCategories]string{
	CategoryRequests, CategoryEngineSelection, CategoryProvisioning, CategoryOrchestratorHealth,
	CategoryStreams, CategoryStress, CategoryErrors, CategoryDisconnects,
}

// Severities of stress events, and the levels LogStressEvent logs them at.
const (
	SeverityInfo     = "info"     // slog.LevelInfo
	SeverityWarning  = "warning"  // slog.LevelWarn
	SeverityCritical = "critical" // slog.LevelError
)

// LogRequest records a finished HTTP request in "requests": method, path,
// duration_ms, status_code, ace_id.
func (l *Logger) LogRequest(ctx context.Context, method, path string, d time.Duration, status int, aceID string) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logRequest(ctx, method, path, d, status, aceID)
	}
}

func (l *Logger) logRequest(ctx context.Context, method, path string, d time.Duration, status int, aceID string) {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "request", 0)
	r.AddAttrs(
		slog.String("method", method),
		slog.String("path", path),
		slog.Duration("duration", d),
		slog.Int("status_code", status),
		slog.String("ace_id", aceID),
	)
	l.emit(ctx, idxRequests, &r)
}

// LogEngineSelection records an engine selection in "engine_selection":
// operation, selected_host, selected_port, container_id, duration_ms,
// error (null on success).
func (l *Logger) LogEngineSelection(ctx context.Context, operation, host string, port int, containerID string, d time.Duration, err error) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logEngineSelection(ctx, operation, host, port, containerID, d, err)
	}
}

func (l *Logger) logEngineSelection(ctx context.Context, operation, host string, port int, containerID string, d time.Duration, err error) {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "engine_selection", 0)
	r.AddAttrs(
		slog.String("operation", operation),
		slog.String("selected_host", host),
		slog.Int("selected_port", port),
		slog.String("container_id", containerID),
		slog.Duration("duration", d),
		slog.Any("error", err),
	)
	l.emit(ctx, idxEngineSelection, &r)
}

// LogProvisioning records a provisioning step in "provisioning":
// operation, duration_ms, success, error (null on success), retry_count.
func (l *Logger) LogProvisioning(ctx context.Context, operation string, d time.Duration, success bool, err error, retryCount int) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logProvisioning(ctx, operation, d, success, err, retryCount)
	}
}

func (l *Logger) logProvisioning(ctx context.Context, operation string, d time.Duration, success bool, err error, retryCount int) {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "provisioning", 0)
	r.AddAttrs(
		slog.String("operation", operation),
		slog.Duration("duration", d),
		slog.Bool("success", success),
		slog.Any("error", err),
		slog.Int("retry_count", retryCount),
	)
	l.emit(ctx, idxProvisioning, &r)
}

// OrchestratorHealth is one reading of the orchestrator's
// /orchestrator/status, as LogOrchestratorHealth records it.
type OrchestratorHealth struct {
	Status             string // healthy, degraded, unavailable
	CanProvision       bool
	BlockedReason      string // human-readable reason provisioning is blocked
	BlockedReasonCode  string // circuit_breaker, vpn_disconnected, max_capacity
	RecoveryETASeconds int    // the orchestrator's estimate; 0 when unknown
	VPNConnected       bool
	EngineCount        int
	StreamCount        int
	Capacity           Capacity
}

// Capacity is the orchestrator's engine capacity.
type Capacity struct {
	Total, Used, Available int
}

// LogOrchestratorHealth records a health reading in "orchestrator_health":
// status, can_provision, blocked_reason, blocked_reason_code,
// recovery_eta_seconds, vpn_connected, engine_count, stream_count and
// capacity{total, used, available}.
func (l *Logger) LogOrchestratorHealth(ctx context.Context, oh OrchestratorHealth) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logOrchestratorHealth(ctx, oh)
	}
}

func (l *Logger) logOrchestratorHealth(ctx context.Context, oh OrchestratorHealth) {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "orchestrator_health", 0)
	r.AddAttrs(
		slog.String("status", oh.Status),
		slog.Bool("can_provision", oh.CanProvision),
		slog.String("blocked_reason", oh.BlockedReason),
		slog.String("blocked_reason_code", oh.BlockedReasonCode),
		slog.Int("recovery_eta_seconds", oh.RecoveryETASeconds),
		slog.Bool("vpn_connected", oh.VPNConnected),
		slog.Int("engine_count", oh.EngineCount),
		slog.Int("stream_count", oh.StreamCount),
		slog.Group("capacity",
			slog.Int("total", oh.Capacity.Total),
			slog.Int("used", oh.Capacity.Used),
			slog.Int("available", oh.Capacity.Available)),
	)
	l.emit(ctx, idxOrchestratorHealth, &r)
}

// LogStreamEvent records a stream lifecycle event in "streams":
// event_type, stream_id, engine_id, duration_ms and attrs.
func (l *Logger) LogStreamEvent(ctx context.Context, eventType, streamID, engineID string, d time.Duration, attrs ...slog.Attr) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logStreamEvent(ctx, eventType, streamID, engineID, d, attrs...)
	}
}

func (l *Logger) logStreamEvent(ctx context.Context, eventType, streamID, engineID string, d time.Duration, attrs ...slog.Attr) {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, eventType, 0)
	r.AddAttrs(
		slog.String("event_type", eventType),
		slog.String("stream_id", streamID),
		slog.String("engine_id", engineID),
		slog.Duration("duration", d),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxStreams, &r)
}

// LogStressEvent records a stress event in "stress": event_type, severity,
// description and attrs. It logs at Warn for "warning", Error for
// "critical" and Info otherwise, so stress events show on the console too.
func (l *Logger) LogStressEvent(ctx context.Context, eventType, severity, description string, attrs ...slog.Attr) {
	level := SeverityLevel(severity)
	if level < slog.Level(l.floor.Load()) {
		return
	}
	r := slog.NewRecord(time.Now(), level, eventType, 0)
	r.AddAttrs(
		slog.String("event_type", eventType),
		slog.String("severity", severity),
		slog.String("description", description),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxStress, &r)
}

// SeverityLevel is the slog level of a stress event's severity.
func SeverityLevel(severity string) slog.Level {
	switch severity {
	case SeverityCritical:
		return slog.LevelError
	case SeverityWarning:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// LogError records an error in "errors": component, operation, error_type
// (the error's Go type), error_message and attrs. A nil err is recorded
// with error_type "" and error_message "".
func (l *Logger) LogError(ctx context.Context, component, operation string, err error, attrs ...slog.Attr) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logError(ctx, component, operation, err, attrs...)
	}
}

func (l *Logger) logError(ctx context.Context, component, operation string, err error, attrs ...slog.Attr) {
	var errType, msg string
	if err != nil {
		errType = fmt.Sprintf("%T", err)
		msg = errorMessage(err)
	}
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "error", 0)
	r.AddAttrs(
		slog.String("component", component),
		slog.String("operation", operation),
		slog.String("error_type", errType),
		slog.String("error_message", msg),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxErrors, &r)
}

// LogDisconnect records a client or engine disconnect in "disconnects":
// stream_id, ace_id, reason, error, bytes_copied, duration_ms and attrs.
func (l *Logger) LogDisconnect(ctx context.Context, streamID, aceID, reason string, err error, bytesCopied int64, d time.Duration, attrs ...slog.Attr) {
	if slog.LevelDebug >= slog.Level(l.floor.Load()) {
		l.logDisconnect(ctx, streamID, aceID, reason, err, bytesCopied, d, attrs...)
	}
}

func (l *Logger) logDisconnect(ctx context.Context, streamID, aceID, reason string, err error, bytesCopied int64, d time.Duration, attrs ...slog.Attr) {
	r := slog.NewRecord(time.Now(), slog.LevelDebug, "disconnect", 0)
	r.AddAttrs(
		slog.String("stream_id", streamID),
		slog.String("ace_id", aceID),
		slog.String("reason", reason),
		slog.Any("error", err),
		slog.Int64("bytes_copied", bytesCopied),
		slog.Duration("duration", d),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxDisconnects, &r)
}

// errorMessage is err.Error(), surviving a method that panics.
func errorMessage(err error) string { return safeerr.String(err) }
