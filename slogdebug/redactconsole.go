package slogdebug

import (
	"context"
	"log/slog"
	"slices"

	"github.com/proxydebug/debugmode/internal/redact"
)

// redactingHandler hands Config.Console its records redacted.
type redactingHandler struct {
	slog.Handler
	red    *redact.Redactor
	groups []string // WithGroup names, outermost first
}

// redactConsole wraps next in a redactingHandler, unless red is nil.
func redactConsole(next slog.Handler, red *redact.Redactor) slog.Handler {
	if red == nil {
		return next
	}
	return &redactingHandler{Handler: next, red: red}
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.red.RedactText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.red.RedactAttr(h.groups, a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	redacted := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		redacted[i] = h.red.RedactAttr(h.groups, a)
	}
	return &redactingHandler{h.Handler.WithAttrs(redacted), h.red, h.groups}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	groups := append(slices.Clip(h.groups), name)
	return &redactingHandler{h.Handler.WithGroup(name), h.red, groups}
}
