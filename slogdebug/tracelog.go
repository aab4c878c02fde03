package slogdebug

import (
	"context"
	"log/slog"
	"runtime/trace"

	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/reqid"
)

// traceLogHandler mirrors the category records into the Go execution
// trace, while one is recorded, as user log events (runtime/trace.Log) of
// the record's category: its message, then " request_id=<id>" when it has
// one. Logged with the request's context, an event belongs to the
// request's task (see integration.Middleware).
type traceLogHandler struct {
	red       *redact.Redactor // the files' redaction, for the message: a trace is a file too
	category  string           // bound with WithAttrs
	requestID string           // bound with WithAttrs
	grouped   bool             // a group is open: later attrs are not top-level
}

const requestIDKey = "request_id" // the attribute a record's request ID may be in

func (h traceLogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelDebug && trace.IsEnabled()
}

func (h traceLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if !trace.IsEnabled() {
		return nil
	}
	cat, id := category.InRecord(h.category, r), h.requestID
	if !h.grouped {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == requestIDKey {
				id = a.Value.Resolve().String()
			}
			return true
		})
	}
	if cat == "" {
		return nil // not a category record
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if id == "" {
		if ids := reqid.From(ctx); ids != nil {
			id = ids.RequestID
		}
	}
	msg := h.red.RedactText(r.Message)
	if id != "" {
		msg += " " + requestIDKey + "=" + id
	}
	trace.Log(ctx, cat, msg)
	return nil
}

func (h traceLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.category = category.Bound(h.category, attrs)
	for _, a := range attrs {
		if a.Key == requestIDKey && !h.grouped {
			h.requestID = a.Value.Resolve().String()
		}
	}
	return h
}

func (h traceLogHandler) WithGroup(name string) slog.Handler {
	if name != "" {
		h.grouped = true
	}
	return h
}
