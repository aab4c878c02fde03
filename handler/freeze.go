package handler

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
)

// Freeze returns attrs with every value that could change after the log
// call captured as a Handler would write it at the call: LogValuers are
// resolved (in groups too), errors become their message, and any other Go
// value (a struct, a map, a pointer) becomes its JSON encoding, held as a
// json.RawMessage that the Handler writes as it is. A record whose attrs
// are frozen can be kept (a flight recorder) and handed to a Handler later:
// its line is the one the Handler would have written at the call. Keys and
// stable values are left alone: redaction and truncation happen when the
// record is written, as for any record.
func Freeze(attrs []slog.Attr) []slog.Attr {
	out := slices.Clone(attrs)
	for i, a := range out {
		out[i].Value = freezeValue(a.Value)
	}
	return out
}

func freezeValue(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		return slog.GroupValue(Freeze(v.Group())...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil, json.RawMessage:
			return v
		case error:
			return slog.StringValue(errorString(x))
		case string:
			return slog.StringValue(x)
		case []byte:
			return slog.StringValue(string(x)) // written as text, as at the call
		case *url.URL:
			if x == nil {
				return slog.AnyValue(nil)
			}
			return slog.StringValue(x.String())
		case url.URL:
			return slog.StringValue(x.String())
		}
		// What the encoder marshals for the value now, compact JSON
		// written back verbatim (secret members are redacted when the
		// line is written, as for any value), or the failure's string.
		out, err := marshalJSON(v.Any())
		if err != nil {
			return slog.StringValue(marshalFailure(err))
		}
		return slog.AnyValue(json.RawMessage(out))
	}
	return v
}
