// Package reqid carries request IDs and W3C trace context in a context, so
// every record logged with it shares a request_id and outgoing calls forward it.
package reqid

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
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

type ctxKey struct{}

// decoded is what With puts in a context: the IDs, trace and span decoded once.
type decoded struct {
	IDs
	trace [16]byte
	span  [8]byte
}

// With returns a context carrying ids.
func With(ctx context.Context, ids IDs) context.Context {
	d := &decoded{IDs: ids}
	if !decodeHex(d.trace[:], ids.TraceID) || !decodeHex(d.span[:], ids.SpanID) {
		d.trace, d.span = [16]byte{}, [8]byte{}
	}
	return context.WithValue(ctx, ctxKey{}, d)
}

// From returns the IDs in ctx, or nil.
func From(ctx context.Context) *IDs {
	ids, _, _ := DecodedFrom(ctx)
	return ids
}

// DecodedFrom returns From(ctx) with its trace and span IDs as bytes (as
// OpenTelemetry holds them), both zero when not valid hex.
func DecodedFrom(ctx context.Context) (ids *IDs, traceID [16]byte, spanID [8]byte) {
	if ctx != nil {
		if d, _ := ctx.Value(ctxKey{}).(*decoded); d != nil {
			return &d.IDs, d.trace, d.span
		}
	}
	return nil, traceID, spanID
}

// decodeHex decodes s, hex twice as long as dst, into dst, if it is such.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// Traceparent is the W3C traceparent header for this request's outgoing calls.
func (ids IDs) Traceparent() string {
	return "00-" + ids.TraceID + "-" + ids.SpanID + "-" + cmp.Or(ids.Flags, "01")
}

// FromHeaders builds an incoming request's IDs: a valid traceparent's trace is
// continued with a new span; an absent or unsafe X-Request-ID is replaced.
func FromHeaders(requestID, traceparent string) IDs {
	ids, ok := parseTraceparent(traceparent)
	if !ok {
		ids = IDs{TraceID: randomHex(16), Flags: "01"}
	}
	ids.SpanID, ids.RequestID = randomHex(8), requestID
	if !validRequestID(requestID) {
		ids.RequestID = randomHex(8)
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

func randomHex(n int) string {
	b := make([]byte, n)
	for {
		if _, err := rand.Read(b); err != nil {
			panic("reqid: crypto/rand failed: " + err.Error()) // never, on supported systems
		}
		if h := hex.EncodeToString(b); !allZero(h) {
			return h
		}
	}
}
