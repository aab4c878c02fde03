// Package reqid carries request IDs and W3C trace context in a context, so
// every record logged with it shares a request_id and outgoing calls forward it.
package reqid

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/proxydebug/debugmode/internal/reqctx"
)

// The headers request IDs come in and go out in.
const (
	HeaderRequestID   = "X-Request-ID"
	HeaderTraceparent = "traceparent"
)

// IDs identify one request across systems.
type IDs struct {
	RequestID string // the X-Request-ID, or one made for the request
	TraceID   string // 32 lower-case hex digits, W3C trace-id
	SpanID    string // 16 lower-case hex digits: this request's span
	ParentID  string // the caller's span, from its traceparent, or ""
	Flags     string // 2 hex digits, W3C trace-flags ("01": sampled)
}

// entry is what With puts in a context: the IDs, and the outgoing
// traceparent formatted once, for every call of the request.
type entry = reqctx.Entry[IDs]

// With returns a context carrying ids (a nil ctx is context.Background()).
func With(ctx context.Context, ids IDs) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return reqctx.With(ctx, entry{IDs: ids, Traceparent: ids.Traceparent()})
}

// From returns the IDs in ctx, or nil. They are the context's: read them,
// and make new ones with With.
func From(ctx context.Context) *IDs {
	if e := reqctx.From[IDs](ctx); e != nil {
		return &e.IDs
	}
	return nil
}

// Traceparent is the W3C traceparent header for this request's outgoing calls.
func (ids IDs) Traceparent() string {
	return "00-" + ids.TraceID + "-" + ids.SpanID + "-" + cmp.Or(ids.Flags, "01")
}

// FromHeaders builds an incoming request's IDs: a valid traceparent's trace is
// continued with a new span; an absent or unsafe X-Request-ID is replaced.
func FromHeaders(requestID, traceparent string) IDs {
	ids, continued := parseTraceparent(traceparent)
	kept := validRequestID(requestID)
	// The new IDs, hex, in one string: span (8 bytes), then the trace (16)
	// unless continued, then the request ID (8) unless kept.
	sizes := [3]int{8, 0, 0}
	if !continued {
		sizes[1] = 16
	}
	if !kept {
		sizes[2] = 8
	}
	s := randomHex(sizes)
	ids.SpanID, s = s[:16], s[16:]
	if !continued {
		ids.TraceID, ids.Flags, s = s[:32], "01", s[32:]
	}
	ids.RequestID = requestID
	if !kept {
		ids.RequestID = s
	}
	return ids
}

// New makes IDs for work that did not come with any (a background poll).
func New() IDs { return FromHeaders("", "") }

// validRequestID reports whether an X-Request-ID is safe to keep: 1 to 128
// bytes of printable ASCII without spaces, quotes or backslashes.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// parseTraceparent parses a W3C traceparent (00-trace-parent-flags). All-zero
// IDs, upper-case hex and version ff are invalid; higher versions are read
// by their first four fields, as the specification asks.
func parseTraceparent(s string) (IDs, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 55 {
		return IDs{}, false
	}
	version, trace, span, flags := s[0:2], s[3:35], s[36:52], s[53:55]
	if s[2] != '-' || s[35] != '-' || s[52] != '-' || !isHex(version) || version == "ff" ||
		!isHex(trace) || !isHex(span) || !isHex(flags) || allZero(trace) || allZero(span) {
		return IDs{}, false
	}
	if len(s) > 55 && (version == "00" || s[55] != '-') {
		return IDs{}, false
	}
	return IDs{TraceID: trace, ParentID: span, Flags: flags}, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	return strings.Trim(s, "0") == ""
}

// randomHex returns random IDs of the sizes given (in bytes, up to 32 in
// all), hex, one after the other in one string: one read, one allocation.
// None is all zero (W3C's invalid ID).
func randomHex(sizes [3]int) string {
	var raw [32]byte
	var out [64]byte
	n := sizes[0] + sizes[1] + sizes[2]
	for {
		if _, err := rand.Read(raw[:n]); err != nil {
			panic("reqid: crypto/rand failed: " + err.Error()) // never, on supported systems
		}
		if !anyZero(raw[:n], sizes) {
			break
		}
	}
	hex.Encode(out[:], raw[:n])
	return string(out[:2*n])
}

// anyZero reports whether one of the IDs in b (of sizes) is all zero.
func anyZero(b []byte, sizes [3]int) bool {
	for _, size := range sizes {
		if size > 0 && allZeroBytes(b[:size]) {
			return true
		}
		b = b[size:]
	}
	return false
}

func allZeroBytes(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
