package handler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// truncReserve is what a line keeps free, once it is being cut, for the
// closing braces of its open groups, `,"truncated":true` and the newline.
const truncReserve = 32

// encoder appends one JSONL line to buf. It never fails: values JSON cannot
// hold are written as strings, and a line that would grow past limit is cut
// at an attribute boundary (or inside a string) and marked truncated.
type encoder struct {
	buf       []byte
	limit     int  // maximum line length in bytes, newline included
	depth     int  // open JSON objects below the top level
	comma     bool // the next member needs a separating comma
	truncated bool
}

// sep writes the separator before a member, if one is needed.
func (e *encoder) sep() {
	if e.comma {
		e.buf = append(e.buf, ',')
	}
}

// room reports how many more bytes the line may take before the reserve.
func (e *encoder) room() int {
	return e.limit - truncReserve - e.depth - len(e.buf)
}

// appendAttr writes a as a `"k":v` member of the current object, stopping
// once the line is cut. It reports whether it wrote anything.
func (e *encoder) appendAttr(a slog.Attr) bool {
	if e.truncated {
		return false
	}
	a.Value = a.Value.Resolve()
	// Skip empty attrs (slog's rule) and empty groups.
	if a.Equal(slog.Attr{}) {
		return false
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return false
		}
		if a.Key == "" {
			// An unnamed group's attrs are inlined.
			wrote := false
			for _, ga := range attrs {
				if e.appendAttr(ga) {
					wrote = true
				}
			}
			return wrote
		}
		mark, comma := len(e.buf), e.comma
		e.sep()
		e.buf = appendString(e.buf, a.Key)
		e.buf = append(e.buf, ':', '{')
		e.depth++
		e.comma = false
		inner := len(e.buf)
		for _, ga := range attrs {
			e.appendAttr(ga)
		}
		e.depth--
		if len(e.buf) == inner {
			// Every member was empty (or cut before it started).
			e.buf, e.comma = e.buf[:mark], comma
			return false
		}
		e.buf = append(e.buf, '}')
		e.comma = true
		return true
	}

	mark, comma := len(e.buf), e.comma
	e.sep()
	if a.Value.Kind() == slog.KindDuration {
		e.buf = appendDurationKey(e.buf, a.Key)
	} else {
		e.buf = appendString(e.buf, a.Key)
	}
	e.buf = append(e.buf, ':')
	if str, ok := cuttable(a.Value); ok {
		e.appendCuttable(str)
	} else {
		e.appendValue(a.Value)
	}
	if e.room() >= 0 {
		e.comma = true
		return true
	}
	// Too long even cut (a long key, a large JSON value): roll it back.
	e.buf, e.comma = e.buf[:mark], comma
	e.truncated = true
	return false
}

// appendCuttable writes s as a JSON string, cut to the room left (and the
// line marked truncated) when it does not fit.
func (e *encoder) appendCuttable(s string) {
	if len(s) <= e.room()-2 {
		mark := len(e.buf)
		e.buf = appendString(e.buf, s)
		if e.room() >= 0 {
			return
		}
		e.buf = e.buf[:mark] // escaping made it too long
	}
	e.buf, _ = appendStringLimited(e.buf, s, max(e.room(), 2))
	e.truncated = true
}

// cuttable returns the string a value is written as, when it is a string.
func cuttable(v slog.Value) (string, bool) {
	switch v.Kind() {
	case slog.KindString:
		return v.String(), true
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return errorString(err), true
		}
	}
	return "", false
}

// appendValue writes a resolved, non-group value.
func (e *encoder) appendValue(v slog.Value) {
	switch v.Kind() {
	case slog.KindString:
		e.buf = appendString(e.buf, v.String())
	case slog.KindInt64:
		e.buf = strconv.AppendInt(e.buf, v.Int64(), 10)
	case slog.KindUint64:
		e.buf = strconv.AppendUint(e.buf, v.Uint64(), 10)
	case slog.KindFloat64:
		e.buf = appendFloat(e.buf, v.Float64())
	case slog.KindBool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case slog.KindDuration:
		e.buf = appendMillis(e.buf, v.Duration())
	case slog.KindTime:
		e.buf = append(e.buf, '"')
		e.buf = appendTimestamp(e.buf, v.Time())
		e.buf = append(e.buf, '"')
	case slog.KindAny, slog.KindLogValuer:
		e.buf = appendAny(e.buf, v.Any())
	default:
		e.buf = appendString(e.buf, v.String())
	}
}

// appendAny writes an arbitrary Go value: nil as null, an error as its
// message, anything else as encoding/json renders it. A value that cannot be
// marshalled (a cycle, NaN inside a struct, a MarshalJSON that fails or
// panics) is written as a string starting with "!ERROR:".
func appendAny(buf []byte, x any) []byte {
	switch x := x.(type) {
	case nil:
		return append(buf, "null"...)
	case error:
		return appendString(buf, errorString(x))
	case string:
		return appendString(buf, x)
	case []byte:
		// A byte slice is usually text in a log; keep it readable.
		if utf8.Valid(x) {
			return appendString(buf, string(x))
		}
	}
	out, err := marshalJSON(x)
	if err != nil {
		return appendString(buf, "!ERROR:"+err.Error())
	}
	return append(buf, out...)
}

// marshalJSON is json.Marshal without HTML escaping, recovering panics.
func marshalJSON(x any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("marshal panicked: %v", r)
		}
	}()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// errorString returns err.Error(), surviving a method that panics (a typed
// nil pointer, say).
func errorString(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("!PANIC in Error(): %v", r)
		}
	}()
	return err.Error()
}

// appendDurationKey writes the key of a duration attr: "k" becomes "k_ms"
// (keys that already end in _ms are kept).
func appendDurationKey(buf []byte, key string) []byte {
	if strings.HasSuffix(key, "_ms") {
		return appendString(buf, key)
	}
	buf = appendString(buf, key)
	buf = buf[:len(buf)-1]
	return append(buf, `_ms"`...)
}

// appendMillis writes d as a JSON number of milliseconds, exact to the
// nanosecond, with at least one decimal ("210.0", "1.234567").
func appendMillis(buf []byte, d time.Duration) []byte {
	return appendFixed(buf, int64(d), 1e6, 6, 1)
}

// appendSeconds writes d as a JSON number of seconds with exactly six
// decimals (microseconds): "12.345678".
func appendSeconds(buf []byte, d time.Duration) []byte {
	return appendFixed(buf, int64(d)/1e3, 1e6, 6, 6)
}

// appendFixed writes v/unit as a decimal with fracDigits digits of fraction,
// trailing zeros trimmed down to minDigits. unit must be 10^fracDigits.
func appendFixed(buf []byte, v, unit int64, fracDigits, minDigits int) []byte {
	u := uint64(v)
	if v < 0 {
		buf = append(buf, '-')
		u = uint64(-(v + 1)) + 1 // safe for math.MinInt64
	}
	buf = strconv.AppendUint(buf, u/uint64(unit), 10)
	frac := u % uint64(unit)
	buf = append(buf, '.')
	var digits [20]byte
	for i := fracDigits - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := fracDigits
	for n > minDigits && digits[n-1] == '0' {
		n--
	}
	return append(buf, digits[:n]...)
}

// appendFloat writes f as encoding/json does, and NaN and ±Inf, which JSON
// cannot hold, as the strings "NaN", "+Inf" and "-Inf".
func appendFloat(buf []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(buf, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(buf, `"-Inf"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(buf)
		if n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}

// appendTimestamp writes t in UTC with a fixed nine-digit fraction and a Z,
// so that the strings sort in time order: 2026-11-26T10:08:45.123456789Z.
func appendTimestamp(buf []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(buf, "2006-01-02T15:04:05.000000000Z07:00")
	}
	hour, minute, sec := t.Clock()
	buf = appendDigits(buf, year, 4)
	buf = append(buf, '-')
	buf = appendDigits(buf, int(month), 2)
	buf = append(buf, '-')
	buf = appendDigits(buf, day, 2)
	buf = append(buf, 'T')
	buf = appendDigits(buf, hour, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, minute, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, sec, 2)
	buf = append(buf, '.')
	buf = appendDigits(buf, t.Nanosecond(), 9)
	return append(buf, 'Z')
}

// appendDigits writes a non-negative v zero-padded to width digits.
func appendDigits(buf []byte, v, width int) []byte {
	var d [9]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(buf, d[:width]...)
}

// appendString writes s as a quoted JSON string. Control characters are
// escaped, invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped, so a
// value can never break a line.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && safe[s[i]] {
		i++
	}
	if i == len(s) {
		buf = append(buf, s...)
		return append(buf, '"')
	}
	buf, _ = appendEscaped(buf, s, math.MaxInt)
	return append(buf, '"')
}

// appendStringLimited writes s as a quoted JSON string taking at most max
// bytes, quotes included; it reports whether s was cut. The cut falls on a
// character boundary, never inside an escape.
func appendStringLimited(buf []byte, s string, max int) ([]byte, bool) {
	buf = append(buf, '"')
	buf, cut := appendEscaped(buf, s, max-2)
	return append(buf, '"'), cut
}

// appendEscaped writes the escaped body of s, at most max bytes of it.
func appendEscaped(buf []byte, s string, max int) ([]byte, bool) {
	end := math.MaxInt
	if max < math.MaxInt-len(buf) {
		end = len(buf) + max
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			var piece []byte
			var one [6]byte
			switch {
			case safe[b]:
				one[0] = b
				piece = one[:1]
			case b == '\\' || b == '"':
				one[0], one[1] = '\\', b
				piece = one[:2]
			case b == '\n':
				piece = append(one[:0], `\n`...)
			case b == '\r':
				piece = append(one[:0], `\r`...)
			case b == '\t':
				piece = append(one[:0], `\t`...)
			default:
				piece = append(one[:0], '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			if len(buf)+len(piece) > end {
				return buf, true
			}
			buf = append(buf, piece...)
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case c == utf8.RuneError && size == 1:
			piece = `\ufffd`
		case c == '\u2028':
			piece = `\u2028`
		case c == '\u2029':
			piece = `\u2029`
		default:
			piece = s[i : i+size]
		}
		if len(buf)+len(piece) > end {
			return buf, true
		}
		buf = append(buf, piece...)
		i += size
	}
	return buf, false
}

const hex = "0123456789abcdef"

// safe holds true for the ASCII bytes that need no escaping in a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != 0x7f
	}
	return t
}()
