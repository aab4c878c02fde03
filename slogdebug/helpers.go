package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/safeerr"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/stress"
)

// The typed helpers write the previous debug logger's fields, each into its
// category, at Debug but LogStressEvent; the context's request IDs first,
// extra attributes last. With debug mode off a helper costs one comparison
// (off, inlined); on, it allocates nothing but past slog.Record's five
// inline attributes.

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

// off reports whether no handler takes a category record at level.
func (l *Logger) off(level slog.Level) bool { return level < slog.Level(l.floor.Load()) }

// emit hands l's handler with category i bound first (made once per
// Logger) a record of the helper's fields, then the extra ones, unless it
// takes no record at level.
func (l *Logger) emit(ctx context.Context, i categoryIndex, level slog.Level, msg string, fields []slog.Attr, extra ...[]slog.Attr) {
	if ctx == nil {
		ctx = context.Background()
	}
	hp := l.cats[i].Load()
	if hp == nil {
		var h slog.Handler
		if sh, ok := l.Handler().(*switchHandler); ok {
			h = sh.withCategory(categoryNames[i])
		} else { // a Logger over a handler of the program's (see Default)
			h = l.Handler().WithAttrs([]slog.Attr{slog.String(category.Key, categoryNames[i])})
		}
		hp = &h
		l.cats[i].Store(hp)
	}
	if !(*hp).Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(fields...)
	for _, x := range extra {
		r.AddAttrs(x...)
	}
	_ = (*hp).Handle(ctx, r)
}

// LogRequest records a finished HTTP request in "requests": method, path,
// duration_ms, status_code, ace_id, then attrs.
func (l *Logger) LogRequest(ctx context.Context, method, path string, d time.Duration, status int, aceID string, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.emit(ctx, idxRequests, slog.LevelDebug, "request", []slog.Attr{slog.String("method", method), slog.String("path", path),
			slog.Duration("duration", d), slog.Int("status_code", status), slog.String("ace_id", aceID)}, attrs)
	}
}

// LogEngineSelection records an engine selection in "engine_selection":
// operation, selected_host, selected_port, container_id, duration_ms,
// error, then attrs.
func (l *Logger) LogEngineSelection(ctx context.Context, ev acestream.EngineSelection, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.logEngineSelection(ctx, &ev, attrs)
	}
}

func (l *Logger) logEngineSelection(ctx context.Context, ev *acestream.EngineSelection, attrs []slog.Attr) {
	l.emit(ctx, idxEngineSelection, slog.LevelDebug, "engine_selection", []slog.Attr{slog.String("operation", ev.Operation),
		slog.String("selected_host", ev.Host), slog.Int("selected_port", ev.Port), slog.String("container_id", ev.ContainerID),
		slog.Duration("duration", ev.Duration), slog.Any("error", ev.Err)}, attrs)
}

// LogProvisioning records a provisioning step in "provisioning":
// operation, duration_ms, success, error (null on success), retry_count,
// then attrs.
func (l *Logger) LogProvisioning(ctx context.Context, operation string, d time.Duration, success bool, err error, retryCount int, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.emit(ctx, idxProvisioning, slog.LevelDebug, "provisioning", []slog.Attr{slog.String("operation", operation), slog.Duration("duration", d),
			slog.Bool("success", success), slog.Any("error", err), slog.Int("retry_count", retryCount)}, attrs)
	}
}

// LogOrchestratorHealth records a health reading in "orchestrator_health":
// status, can_provision, blocked_reason, blocked_reason_code, then those
// known of recovery_eta_seconds, vpn_connected, capacity_total,
// capacity_used, capacity_available, engine_count, stream_count; attrs.
func (l *Logger) LogOrchestratorHealth(ctx context.Context, oh acestream.OrchestratorHealth, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.logOrchestratorHealth(ctx, &oh, attrs)
	}
}

func (l *Logger) logOrchestratorHealth(ctx context.Context, oh *acestream.OrchestratorHealth, attrs []slog.Attr) {
	// Gathered first: the record grows its slice past its inline five once.
	var buf [11]slog.Attr
	fields := append(buf[:0], slog.String("status", oh.Status), slog.Bool("can_provision", oh.CanProvision),
		slog.String("blocked_reason", oh.BlockedReason), slog.String("blocked_reason_code", oh.BlockedReasonCode))
	if oh.RecoveryETASeconds != 0 {
		fields = append(fields, slog.Int("recovery_eta_seconds", oh.RecoveryETASeconds))
	}
	fields = append(fields, slog.Bool("vpn_connected", oh.VPNConnected))
	for _, c := range [...]struct {
		key   string
		count acestream.Count
	}{
		{"capacity_total", oh.CapacityTotal}, {"capacity_used", oh.CapacityUsed}, {"capacity_available", oh.CapacityAvailable},
		{"engine_count", oh.EngineCount}, {"stream_count", oh.StreamCount},
	} {
		if v, ok := c.count.Value(); ok {
			fields = append(fields, slog.Int(c.key, v))
		}
	}
	l.emit(ctx, idxOrchestratorHealth, slog.LevelDebug, "orchestrator_health", fields, attrs)
}

// LogStreamEvent records a stream lifecycle event in "streams":
// event_type, stream_id, engine_id, duration_ms, then attrs.
func (l *Logger) LogStreamEvent(ctx context.Context, ev acestream.StreamEvent, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.logStreamEvent(ctx, &ev, attrs)
	}
}

func (l *Logger) logStreamEvent(ctx context.Context, ev *acestream.StreamEvent, attrs []slog.Attr) {
	l.emit(ctx, idxStreams, slog.LevelDebug, ev.Type, []slog.Attr{slog.String("event_type", ev.Type), slog.String("stream_id", ev.StreamID),
		slog.String("engine_id", ev.EngineID), slog.Duration("duration", ev.Duration)}, attrs)
}

// LogStressEvent records a stress event of the program's own in "stress":
// event_type, severity, description, ev.Attrs, then attrs. It logs at
// ev.Level: severity critical at Error and above, warning at Warn and
// above, info below.
func (l *Logger) LogStressEvent(ctx context.Context, ev stress.Event, attrs ...slog.Attr) {
	if !l.off(ev.Level) {
		l.emit(ctx, idxStress, ev.Level, ev.Type, []slog.Attr{slog.String("event_type", ev.Type), slog.String("severity", stressevent.Severity(ev.Level)),
			slog.String("description", ev.Description)}, ev.Attrs, attrs)
	}
}

// LogError records an error in "errors": component, operation, error_type
// (the error's Go type), error_message, then attrs. A nil err is recorded
// with error_type "" and error_message "".
func (l *Logger) LogError(ctx context.Context, component, operation string, err error, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		var errType, msg string
		if err != nil {
			errType, msg = fmt.Sprintf("%T", err), safeerr.String(err)
		}
		l.emit(ctx, idxErrors, slog.LevelDebug, "error", []slog.Attr{slog.String("component", component), slog.String("operation", operation),
			slog.String("error_type", errType), slog.String("error_message", msg)}, attrs)
	}
}

// LogDisconnect records a client or engine disconnect in "disconnects":
// stream_id, ace_id, reason, error, bytes_copied, duration_ms, then attrs.
func (l *Logger) LogDisconnect(ctx context.Context, ev acestream.Disconnect, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.logDisconnect(ctx, &ev, attrs)
	}
}

func (l *Logger) logDisconnect(ctx context.Context, ev *acestream.Disconnect, attrs []slog.Attr) {
	l.emit(ctx, idxDisconnects, slog.LevelDebug, "disconnect", []slog.Attr{slog.String("stream_id", ev.StreamID), slog.String("ace_id", ev.AceID),
		slog.String("reason", ev.Reason), slog.Any("error", ev.Err), slog.Int64("bytes_copied", ev.BytesCopied),
		slog.Duration("duration", ev.Duration)}, attrs)
}
