package slogdebug

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/reqid"
)

// contextStamp is the category handler's Options.Stamp: the request's ID
// (package reqid) and the trace span a record was logged in, the
// OpenTelemetry span's when the context has one (so the lines point at the
// traces of a tracing backend), the request's own trace otherwise.
func contextStamp(ctx context.Context) handler.Stamp {
	var st handler.Stamp
	ids := reqid.From(ctx)
	if ids != nil {
		st.RequestID = ids.RequestID
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		st.TraceID, st.SpanID = sc.TraceID(), sc.SpanID()
		return st
	}
	if ids != nil && ids.TraceID != "" {
		var tid [16]byte
		var sid [8]byte
		if decodeHex(tid[:], ids.TraceID) && decodeHex(sid[:], ids.SpanID) {
			st.TraceID, st.SpanID = tid, sid
		}
	}
	return st
}

// decodeHex decodes s, exactly twice as long as dst, into dst, without
// allocating; it reports whether s was such hex.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := hexValue(s[2*i])
		lo, ok2 := hexValue(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
