package handler

import (
	"fmt"
	"log/slog"

	"github.com/proxydebug/debugmode/internal/safego"
)

// A panic in the handler (a bug, or in a callback of Options) must never
// take the host process down, least of all from the writer goroutine, where
// nothing of the host's could recover it. Every piece of work that can
// panic runs under a recover: a record that panics while it is encoded is
// counted as failed, a step of the writer that panics is skipped. Each
// panic is counted (Stats.Panics), kept as Stats.LastError and reported
// through Options.OnError.

// internalError describes a recovered panic.
func internalError(what string, p *safego.PanicError) error {
	return fmt.Errorf("handler: %s: recovered from a %w; this is a bug of debugmode, please report it", what, p)
}

// encodeSafely is h.encode recovering a panic: buf comes back as it was,
// the panic is counted and reported, and the caller counts the record as
// failed.
func (h *Handler) encodeSafely(buf []byte, r *slog.Record, cat *category, st stamp, limit int) (out []byte, err error) {
	mark := len(buf)
	defer func() {
		if v := recover(); v != nil {
			out = buf[:mark]
			err = internalError("encoding a record of category "+cat.name, safego.Recovered(v))
			h.s.notePanic(err, 1)
		}
	}()
	if hk := h.s.opts.hooks; hk != nil && hk.beforeEncode != nil {
		// A copy of its own: r's address handed to a func value would move
		// r to the heap, an allocation for every record, hook or not.
		hooked := *r
		hk.beforeEncode(&hooked)
		r = &hooked
	}
	return h.encode(buf, r, cat, st, limit), nil
}

// appendGuarded is appendToFile recovering a panic as an error (with
// nothing counted as written); the caller counts and reports it.
func (s *sink) appendGuarded(c *category, p []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, internalError("writing the "+c.name+" file", safego.Recovered(v))
		}
	}()
	return s.appendToFile(c, p)
}

// guard runs one step of the writer's work recovering a panic: it is
// counted, reported and returned as an error.
func (s *sink) guard(what string, step func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = internalError(what, safego.Recovered(v))
			s.notePanic(err, 0)
		}
	}()
	return step()
}
