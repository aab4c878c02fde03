package slogdebug

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicking is a handler that panics on every record.
type panicking struct{ slog.Handler }

func (panicking) Handle(context.Context, slog.Record) error { panic("broken") }

// failing is a handler that fails every record.
type failing struct{ slog.Handler }

func (failing) Handle(context.Context, slog.Record) error { return errors.New("disk full") }

// adding adds an attribute to its copy of each record before it writes it.
type adding struct{ slog.Handler }

func (a adding) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(slog.String("added", "by one handler"))
	return a.Handler.Handle(ctx, r)
}

func TestFanoutHandsEveryHandlerItsRecord(t *testing.T) {
	var first, second bytes.Buffer
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	text := func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, opts) }
	bound := func(b *bytes.Buffer) slog.Handler {
		return text(b).WithAttrs([]slog.Attr{slog.Int("k", 1)}).WithGroup("g")
	}
	ownWith := fanout{text(&second)}.WithAttrs([]slog.Attr{slog.Int("k", 1)}).WithGroup("g") // the fan-out's own With
	f := fanout{panicking{text(&bytes.Buffer{})}, adding{bound(&first)}, failing{text(&bytes.Buffer{})}, ownWith}
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	r.AddAttrs(slog.Int("a1", 1), slog.Int("a2", 2), slog.Int("a3", 3), slog.Int("a4", 4), slog.Int("a5", 5), slog.Int("a6", 6))
	err := f.Handle(context.Background(), r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a handler panicked; recovered")
	assert.Contains(t, err.Error(), "disk full")
	assert.Equal(t, "level=INFO msg=m k=1 g.a1=1 g.a2=2 g.a3=3 g.a4=4 g.a5=5 g.a6=6 g.added=\"by one handler\"\n", first.String())
	assert.Equal(t, "level=INFO msg=m k=1 g.a1=1 g.a2=2 g.a3=3 g.a4=4 g.a5=5 g.a6=6\n", second.String(),
		"what one handler adds to its copy does not reach another")
	assert.False(t, fanout{text(&second)}.Enabled(context.Background(), slog.LevelDebug))
}
