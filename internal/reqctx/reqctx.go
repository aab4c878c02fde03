// Package reqctx is where package reqid keeps a request's IDs in a context,
// so that the library's own packages can read what reqid formats once per
// request (the outgoing traceparent) without reqid exporting it.
package reqctx

import "context"

// Entry is what reqid.With puts in a context; T is reqid.IDs.
type Entry[T any] struct {
	IDs         T
	Traceparent string // the traceparent header of outgoing calls
}

type key struct{}

// entryCtx is a context carrying an Entry: context.WithValue's, in one
// allocation with the Entry.
type entryCtx[T any] struct {
	context.Context
	e Entry[T]
}

func (c *entryCtx[T]) Value(k any) any {
	if _, ok := k.(key); ok {
		return &c.e
	}
	return c.Context.Value(k)
}

// With returns a context carrying e, as context.WithValue would.
func With[T any](ctx context.Context, e Entry[T]) context.Context {
	if ctx == nil {
		panic("reqctx: With of a nil context") // as context.WithValue
	}
	return &entryCtx[T]{Context: ctx, e: e}
}

// From returns the Entry in ctx (nil ctx included), or nil.
func From[T any](ctx context.Context) *Entry[T] {
	if ctx == nil {
		return nil
	}
	e, _ := ctx.Value(key{}).(*Entry[T])
	return e
}
