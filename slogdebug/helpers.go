package slogdebug

import (
	"cmp"
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

// The typed helpers log at Debug (LogStressEvent at ev.Level); off, one
// inlined comparison; on, no allocation within slog.Record's five attrs.

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
	category.Requests, category.EngineSelection, category.Provisioning, category.OrchestratorHealth,
	category.Streams, category.Stress, category.Errors, category.Disconnects,
}

func (l *Logger) off(level slog.Level) bool { return level < slog.Level(l.floor.Load()) }

func (l *Logger) emit(ctx context.Context, i categoryIndex, level slog.Level, msg string, fields []slog.Attr, extra ...[]slog.Attr) {
	if ctx == nil {
		ctx = context.Background()
	}
	hp := l.cats[i].Load()
	if hp == nil {
		hp = &helperHandler{}
		if sh, ok := l.Handler().(*switchHandler); ok {
			hp.Handler = sh.withCategory(categoryNames[i])
			hp.leftOut = !l.sel.selected(cmp.Or(sh.calls.category(), categoryNames[i]))
		} else { // a Logger over a handler of the program's (see Default)
			hp.Handler = l.Handler().WithAttrs([]slog.Attr{slog.String(category.Key, categoryNames[i])})
		}
		l.cats[i].Store(hp)
	}
	if !hp.Enabled(ctx, level) || hp.leftOut && !namesCategory(extra) {
		return // (a category of the caller's in attrs wins over the bound one)
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(fields...)
	for _, x := range extra {
		r.AddAttrs(x...)
	}
	_ = (*hp).Handle(ctx, r)
}

// helperHandler is a Logger's handler for a typed helper: its category
// bound first (the Logger's own bound category wins), and whether
// DEBUG_CATEGORIES leaves that out, decided once.
type helperHandler struct {
	slog.Handler
	leftOut bool
}

// namesCategory reports whether attrs name a category.
func namesCategory(attrs [][]slog.Attr) bool {
	for _, x := range attrs {
		for _, a := range x {
			if _, ok := category.Of(a); ok {
				return true
			}
		}
	}
	return false
}

// LogRequest records a finished HTTP request in "requests".
func (l *Logger) LogRequest(ctx context.Context, method, path string, d time.Duration, status int, aceID string, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.emit(ctx, idxRequests, slog.LevelDebug, "request", []slog.Attr{slog.String("method", method), slog.String("path", path),
			slog.Duration("duration", d), slog.Int("status_code", status), slog.String("ace_id", aceID)}, attrs)
	}
}

// LogEngineSelection records an engine selection in "engine_selection".
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

// LogProvisioning records a provisioning step in "provisioning".
func (l *Logger) LogProvisioning(ctx context.Context, operation string, d time.Duration, success bool, err error, retryCount int, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.emit(ctx, idxProvisioning, slog.LevelDebug, "provisioning", []slog.Attr{slog.String("operation", operation), slog.Duration("duration", d),
			slog.Bool("success", success), slog.Any("error", err), slog.Int("retry_count", retryCount)}, attrs)
	}
}

// LogOrchestratorHealth records a health reading in "orchestrator_health".
func (l *Logger) LogOrchestratorHealth(ctx context.Context, oh acestream.OrchestratorHealth, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.logOrchestratorHealth(ctx, &oh, attrs)
	}
}

func (l *Logger) logOrchestratorHealth(ctx context.Context, oh *acestream.OrchestratorHealth, attrs []slog.Attr) {
	// Gathered first: the record grows its slice past its inline five once.
	var buf [11]slog.Attr
	fields := append(buf[:0], slog.String("status", oh.Status))
	if answered := oh.Status != "unreachable" && oh.Status != "reachable"; answered {
		// Only an answer of the orchestrator's has these: a reading of a
		// call that got none (unreachable) or of the first answer after
		// some (reachable) does not write them as facts.
		fields = append(fields, slog.Bool("can_provision", oh.CanProvision),
			slog.String("blocked_reason", oh.BlockedReason), slog.String("blocked_reason_code", oh.BlockedReasonCode))
		if oh.RecoveryETASeconds != 0 {
			fields = append(fields, slog.Int("recovery_eta_seconds", oh.RecoveryETASeconds))
		}
		fields = append(fields, slog.Bool("vpn_connected", oh.VPNConnected))
	}
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

// LogStreamEvent records a stream lifecycle event in "streams".
func (l *Logger) LogStreamEvent(ctx context.Context, ev acestream.StreamEvent, attrs ...slog.Attr) {
	if !l.off(slog.LevelDebug) {
		l.logStreamEvent(ctx, &ev, attrs)
	}
}

func (l *Logger) logStreamEvent(ctx context.Context, ev *acestream.StreamEvent, attrs []slog.Attr) {
	l.emit(ctx, idxStreams, slog.LevelDebug, ev.Type, []slog.Attr{slog.String("event_type", ev.Type), slog.String("stream_id", ev.StreamID),
		slog.String("engine_id", ev.EngineID), slog.Duration("duration", ev.Duration)}, attrs)
}

// LogStressEvent records the program's own stress event in "stress" at ev.Level.
func (l *Logger) LogStressEvent(ctx context.Context, ev stress.Event, attrs ...slog.Attr) {
	if !l.off(ev.Level) {
		l.emit(ctx, idxStress, ev.Level, ev.Type, []slog.Attr{slog.String("event_type", ev.Type), slog.String("severity", stressevent.Severity(ev.Level)),
			slog.String("description", ev.Description)}, ev.Attrs, attrs)
	}
}

// LogError records an error in "errors" (error_type is its Go type).
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

// LogDisconnect records a client or engine disconnect in "disconnects".
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
