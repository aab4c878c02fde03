package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/safeerr"
	"github.com/proxydebug/debugmode/stress"
)

// The typed helpers write the previous debug logger's field names, each
// into its category (package category names them), at Debug except
// LogStressEvent. Each takes the context first (its request IDs are
// written) and extra attributes last, written after the helper's own
// fields. With debug mode off a helper costs one comparison; with it on,
// a helper allocates nothing of its own, but for a record that goes
// through the fan-out with more than five fields (see fastpath.go).

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

// categoryNames are the categories of the typed helpers, by index.
var categoryNames = [numCategories]string{
	category.Requests, category.EngineSelection, category.Provisioning, category.OrchestratorHealth,
	category.Streams, category.Stress, category.Errors, category.Disconnects,
}

// on reports whether a record of category i at level may be taken by any
// handler. A Logger that binds a category of its own asks its handlers
// (see emit).
func (l *Logger) on(i categoryIndex, level slog.Level) bool {
	return level >= slog.Level(l.floors[i].Load()) || l.rebound()
}

// LogRequest records a finished HTTP request in "requests": method, path,
// duration_ms, status_code, ace_id, then attrs.
func (l *Logger) LogRequest(ctx context.Context, method, path string, d time.Duration, status int, aceID string, attrs ...slog.Attr) {
	if l.on(idxRequests, slog.LevelDebug) {
		l.logRequest(ctx, method, path, d, status, aceID, attrs)
	}
}

func (l *Logger) logRequest(ctx context.Context, method, path string, d time.Duration, status int, aceID string, attrs []slog.Attr) {
	if fp := l.fast(idxRequests); fp != nil && fp.quiet(d, attrs) {
		v := handler.Values{Str: [4]string{method, path, aceID}, Num: [3]int64{int64(d), int64(status)}}
		fp.handle(ctx, l.clock.now(), "request", &v, attrs)
		return
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, "request", 0)
	r.AddAttrs(
		slog.String("method", method),
		slog.String("path", path),
		slog.Duration("duration", d),
		slog.Int("status_code", status),
		slog.String("ace_id", aceID),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxRequests, &r)
}

// LogEngineSelection records an engine selection in "engine_selection":
// operation, selected_host, selected_port, container_id, duration_ms,
// error, then attrs.
func (l *Logger) LogEngineSelection(ctx context.Context, ev acestream.EngineSelection, attrs ...slog.Attr) {
	if l.on(idxEngineSelection, slog.LevelDebug) {
		l.logEngineSelection(ctx, &ev, attrs)
	}
}

func (l *Logger) logEngineSelection(ctx context.Context, ev *acestream.EngineSelection, attrs []slog.Attr) {
	if ev.Err == nil {
		if fp := l.fast(idxEngineSelection); fp != nil && fp.quiet(ev.Duration, attrs) {
			v := handler.Values{Str: [4]string{ev.Operation, ev.Host, ev.ContainerID}, Num: [3]int64{int64(ev.Port), int64(ev.Duration)}}
			fp.handle(ctx, l.clock.now(), "engine_selection", &v, attrs)
			return
		}
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, "engine_selection", 0)
	r.AddAttrs(
		slog.String("operation", ev.Operation),
		slog.String("selected_host", ev.Host),
		slog.Int("selected_port", ev.Port),
		slog.String("container_id", ev.ContainerID),
		slog.Duration("duration", ev.Duration),
		errorAttr(ev.Err),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxEngineSelection, &r)
}

// LogProvisioning records a provisioning step in "provisioning":
// operation, duration_ms, success, error (null on success), retry_count,
// then attrs.
func (l *Logger) LogProvisioning(ctx context.Context, operation string, d time.Duration, success bool, err error, retryCount int, attrs ...slog.Attr) {
	if l.on(idxProvisioning, slog.LevelDebug) {
		l.logProvisioning(ctx, operation, d, success, err, retryCount, attrs)
	}
}

func (l *Logger) logProvisioning(ctx context.Context, operation string, d time.Duration, success bool, err error, retryCount int, attrs []slog.Attr) {
	if success && err == nil {
		if fp := l.fast(idxProvisioning); fp != nil && fp.quiet(d, attrs) {
			v := handler.Values{Str: [4]string{operation}, Num: [3]int64{int64(d), 1, int64(retryCount)}}
			fp.handle(ctx, l.clock.now(), "provisioning", &v, attrs)
			return
		}
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, "provisioning", 0)
	r.AddAttrs(
		slog.String("operation", operation),
		slog.Duration("duration", d),
		slog.Bool("success", success),
		errorAttr(err),
		slog.Int("retry_count", retryCount),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxProvisioning, &r)
}

// LogOrchestratorHealth records a health reading in "orchestrator_health":
// status, can_provision, blocked_reason, blocked_reason_code,
// recovery_eta_seconds, vpn_connected, capacity_total, capacity_used,
// capacity_available, engine_count, stream_count (those it knows), then
// attrs.
func (l *Logger) LogOrchestratorHealth(ctx context.Context, oh acestream.OrchestratorHealth, attrs ...slog.Attr) {
	if l.on(idxOrchestratorHealth, slog.LevelDebug) {
		l.logOrchestratorHealth(ctx, &oh, attrs)
	}
}

func (l *Logger) logOrchestratorHealth(ctx context.Context, oh *acestream.OrchestratorHealth, attrs []slog.Attr) {
	// Gathered first and added at once: the record grows its slice for the
	// attributes past its inline five once, not per optional field.
	var fields [11]slog.Attr
	n := copy(fields[:], []slog.Attr{
		slog.String("status", oh.Status),
		slog.Bool("can_provision", oh.CanProvision),
		slog.String("blocked_reason", oh.BlockedReason),
		slog.String("blocked_reason_code", oh.BlockedReasonCode),
	})
	if oh.RecoveryETASeconds != 0 {
		fields[n] = slog.Int("recovery_eta_seconds", oh.RecoveryETASeconds)
		n++
	}
	fields[n] = slog.Bool("vpn_connected", oh.VPNConnected)
	n++
	for _, c := range [...]struct {
		key   string
		count acestream.Count
	}{
		{"capacity_total", oh.CapacityTotal}, {"capacity_used", oh.CapacityUsed}, {"capacity_available", oh.CapacityAvailable},
		{"engine_count", oh.EngineCount}, {"stream_count", oh.StreamCount},
	} {
		if v, ok := c.count.Value(); ok {
			fields[n] = slog.Int(c.key, v)
			n++
		}
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, "orchestrator_health", 0)
	if len(attrs) == 0 {
		r.AddAttrs(fields[:n]...)
	} else {
		r.AddAttrs(append(fields[:n:n], attrs...)...)
	}
	l.emit(ctx, idxOrchestratorHealth, &r)
}

// LogStreamEvent records a stream lifecycle event in "streams":
// event_type, stream_id, engine_id, duration_ms, then attrs.
func (l *Logger) LogStreamEvent(ctx context.Context, ev acestream.StreamEvent, attrs ...slog.Attr) {
	if l.on(idxStreams, slog.LevelDebug) {
		l.logStreamEvent(ctx, &ev, attrs)
	}
}

func (l *Logger) logStreamEvent(ctx context.Context, ev *acestream.StreamEvent, attrs []slog.Attr) {
	if fp := l.fast(idxStreams); fp != nil && fp.quiet(ev.Duration, attrs) {
		v := handler.Values{Str: [4]string{ev.Type, ev.StreamID, ev.EngineID}, Num: [3]int64{int64(ev.Duration)}}
		fp.handle(ctx, l.clock.now(), ev.Type, &v, attrs)
		return
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, ev.Type, 0)
	r.AddAttrs(
		slog.String("event_type", ev.Type),
		slog.String("stream_id", ev.StreamID),
		slog.String("engine_id", ev.EngineID),
		slog.Duration("duration", ev.Duration),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxStreams, &r)
}

// LogStressEvent records a stress event of the program's own in "stress":
// event_type, severity, description, ev.Attrs, then attrs. It logs at the
// severity's level (stress.Severity.Level: Warn for warning, Error for
// critical, Info otherwise), so warnings and critical events show on the
// console too. The stress detector finds the usual ones by itself (slow
// requests, failing provisioning, ...): this is for the others.
func (l *Logger) LogStressEvent(ctx context.Context, ev stress.Event, attrs ...slog.Attr) {
	if level := ev.Severity.Level(); l.on(idxStress, level) {
		l.logStressEvent(ctx, level, &ev, attrs)
	}
}

func (l *Logger) logStressEvent(ctx context.Context, level slog.Level, ev *stress.Event, attrs []slog.Attr) {
	r := slog.NewRecord(l.clock.now(), level, ev.Type, 0)
	r.AddAttrs(
		slog.String("event_type", ev.Type),
		slog.String("severity", string(ev.Severity)),
		slog.String("description", ev.Description),
	)
	r.AddAttrs(ev.Attrs...)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxStress, &r)
}

// LogError records an error in "errors": component, operation, error_type
// (the error's Go type), error_message, then attrs. A nil err is recorded
// with error_type "" and error_message "".
func (l *Logger) LogError(ctx context.Context, component, operation string, err error, attrs ...slog.Attr) {
	if l.on(idxErrors, slog.LevelDebug) {
		l.logError(ctx, component, operation, err, attrs)
	}
}

func (l *Logger) logError(ctx context.Context, component, operation string, err error, attrs []slog.Attr) {
	var errType, msg string
	if err != nil {
		errType = fmt.Sprintf("%T", err)
		msg = errorMessage(err)
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, "error", 0)
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
// stream_id, ace_id, reason, error, bytes_copied, duration_ms, then attrs.
func (l *Logger) LogDisconnect(ctx context.Context, ev acestream.Disconnect, attrs ...slog.Attr) {
	if l.on(idxDisconnects, slog.LevelDebug) {
		l.logDisconnect(ctx, &ev, attrs)
	}
}

func (l *Logger) logDisconnect(ctx context.Context, ev *acestream.Disconnect, attrs []slog.Attr) {
	if ev.Err == nil {
		if fp := l.fast(idxDisconnects); fp != nil && fp.quiet(ev.Duration, attrs) {
			v := handler.Values{Str: [4]string{ev.StreamID, ev.AceID, ev.Reason}, Num: [3]int64{ev.BytesCopied, int64(ev.Duration)}}
			fp.handle(ctx, l.clock.now(), "disconnect", &v, attrs)
			return
		}
	}
	r := slog.NewRecord(l.clock.now(), slog.LevelDebug, "disconnect", 0)
	r.AddAttrs(
		slog.String("stream_id", ev.StreamID),
		slog.String("ace_id", ev.AceID),
		slog.String("reason", ev.Reason),
		errorAttr(ev.Err),
		slog.Int64("bytes_copied", ev.BytesCopied),
		slog.Duration("duration", ev.Duration),
	)
	r.AddAttrs(attrs...)
	l.emit(ctx, idxDisconnects, &r)
}

// errorAttr is the "error" attribute of err: null when err is nil.
func errorAttr(err error) slog.Attr { return slog.Any("error", err) }

// errorMessage is err.Error(), surviving a method that panics.
func errorMessage(err error) string { return safeerr.String(err) }
