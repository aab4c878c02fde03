package handler

import (
	"encoding/binary"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/proxydebug/debugmode/internal/jsonenc"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/safeerr"
)

// truncReserve keeps room for closing braces, `,"truncated":true` and the
// newline, so a cut line stays valid JSON.
const truncReserve = 32

// encoder appends one JSONL line to buf. It never fails: values JSON cannot
// hold are written as strings, and a line that would grow past limit is cut
// at an attribute boundary (or inside a string) and marked truncated.
type encoder struct {
	red       *redact.Redactor // nil: nothing is redacted
	buf       []byte
	start     int  // where the line starts in buf
	limit     int  // maximum line length in bytes, newline included
	depth     int  // open JSON objects below the top level
	comma     bool // the next member needs a separating comma
	truncated bool
	secret    bool           // inside a group named like a secret: every value is redacted
	panics    *atomic.Uint64 // the sink's count of panics recovered; nil: not counted
}

func (e *encoder) sep() {
	if e.comma {
		e.buf = append(e.buf, ',')
	}
}

func (e *encoder) room() int {
	return e.limit - truncReserve - e.depth - (len(e.buf) - e.start)
}

// appendAttr writes a as a member, reporting whether it wrote anything.
func (e *encoder) appendAttr(a slog.Attr) bool {
	if e.truncated {
		return false
	}
	kind := a.Value.Kind()
	if kind == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
		kind = a.Value.Kind()
	}
	if kind == slog.KindGroup {
		return e.appendGroup(a.Key, a.Value.Group())
	}
	// Skip empty attrs (slog's rule: key and value both zero).
	if a.Key == "" && kind == slog.KindAny && a.Value.Any() == nil {
		return false
	}
	if e.red != nil && (e.secret || e.red.SecretKey(a.Key)) {
		a.Value = slog.StringValue(redact.Redacted)
		kind = slog.KindString
	}
	mark, comma := len(e.buf), e.comma
	e.sep()
	if e.depth == 0 && ownKey(a.Key) {
		e.buf = append(append(append(e.buf, `"`+ownKeyPrefix...), a.Key...), '"')
	} else {
		e.buf = jsonenc.AppendString(e.buf, a.Key)
	}
	if kind == slog.KindDuration && !strings.HasSuffix(a.Key, "_ms") {
		e.buf = append(e.buf[:len(e.buf)-1], `_ms"`...) // "k" becomes "k_ms"
	}
	e.buf = append(e.buf, ':')
	fits := true
	switch kind {
	case slog.KindString:
		e.appendText(a.Value.String())
	case slog.KindAny:
		fits = e.appendAny(a.Value.Any())
	default:
		e.appendValue(a.Value)
	}
	if fits && e.room() >= 0 {
		e.comma = true
		return true
	}
	// Too long even cut (a long key, a large JSON value): roll it back.
	e.buf, e.comma, e.truncated = e.buf[:mark], comma, true
	return false
}

// ownKeyPrefix is put before an attribute's key that is one of the line's
// own (as logrus does): {"level":"INFO",...,"fields.level":"x"}, never two
// "level" keys, of which jq and most readers take the last.
const ownKeyPrefix = "fields."

// ownKey reports whether key is one the line writes itself at the top
// level (category is taken as the category, request_id replaces the
// context's).
func ownKey(key string) bool {
	switch key {
	case "msg", "level", "timestamp", "truncated", "session_id", "elapsed_seconds":
		return true
	}
	return false
}

func (e *encoder) appendAttrs(attrs []slog.Attr) (wrote bool) {
	for _, a := range attrs {
		if e.appendAttr(a) {
			wrote = true
		}
	}
	return wrote
}

func (e *encoder) openGroups(names []string) {
	for _, g := range names {
		e.sep()
		e.buf = append(jsonenc.AppendString(e.buf, g), ':', '{')
		e.comma = false
		e.depth++
	}
}

// appendGroup writes a group as an object (inline without a name).
func (e *encoder) appendGroup(key string, attrs []slog.Attr) bool {
	if len(attrs) == 0 {
		return false
	}
	if e.red != nil && !e.secret && e.red.SecretKey(key) {
		e.secret = true
		defer func() { e.secret = false }()
	}
	if key == "" {
		return e.appendAttrs(attrs)
	}
	mark, comma := len(e.buf), e.comma
	e.sep()
	e.buf = append(jsonenc.AppendString(e.buf, key), ':', '{')
	e.depth++
	e.comma = false
	inner := len(e.buf)
	e.appendAttrs(attrs)
	e.depth--
	if len(e.buf) == inner { // every member was empty (or cut before it started)
		e.buf, e.comma = e.buf[:mark], comma
		return false
	}
	e.buf = append(e.buf, '}')
	e.comma = true
	return true
}

// appendText writes text redacted; it is cut to the room left before
// redaction, bounding the work by the line limit whatever the text's size.
func (e *encoder) appendText(s string) {
	if len(s) <= e.room()-2 && plainText(s) {
		// The common case: it fits, and neither escaping nor redaction changes it.
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, s...)
		e.buf = append(e.buf, '"')
		return
	}
	if e.red != nil {
		cut := false
		if room := max(e.room(), 0); len(s) > room {
			for room > 0 && !utf8.RuneStart(s[room]) {
				room--
			}
			s, cut, e.truncated = s[:room], true, true
		}
		s = e.red.RedactTextCut(s, cut)
	}
	if len(s) <= e.room()-2 {
		mark := len(e.buf)
		e.buf = jsonenc.AppendString(e.buf, s)
		if e.room() >= 0 {
			return
		}
		e.buf = e.buf[:mark] // escaping made it too long
	}
	e.buf, _ = jsonenc.AppendStringLimited(e.buf, s, max(e.room(), 2))
	e.truncated = true
}

// appendValue writes a resolved non-text value (others as redacted text).
func (e *encoder) appendValue(v slog.Value) {
	switch v.Kind() {
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
		e.buf = append(appendTimestamp(append(e.buf, '"'), v.Time()), '"')
	default:
		e.appendText(v.String())
	}
}

// appendAny writes a Go value as redacted text or redacted encoding/json
// ("!ERROR:..." if that fails); false, writing nothing, if it does not fit.
func (e *encoder) appendAny(x any) bool {
	switch x := x.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case error:
		e.appendText(safeerr.String(x))
	case string:
		e.appendText(x)
	case *url.URL:
		if x == nil {
			e.buf = append(e.buf, "null"...)
		} else {
			e.appendText(x.String())
		}
	case url.URL:
		e.appendText(x.String())
	case []byte:
		// Convert only room+1 bytes: enough for appendText to see the cut.
		e.appendText(string(x[:min(len(x), max(e.room(), 0)+1)]))
	default:
		out, err := jsonenc.Render(x)
		if err != nil {
			if _, ok := err.(*jsonenc.PanicError); ok && e.panics != nil {
				e.panics.Add(1) // a value's panic, recovered: counted as any other
			}
			e.appendText(jsonenc.MarshalFailure(err))
		} else if len(out) > e.room() {
			return false
		} else if e.red != nil {
			e.buf = e.red.AppendJSON(e.buf, out)
		} else {
			e.buf = append(e.buf, out...)
		}
	}
	return true
}

// appendMillis writes d in milliseconds, exact to the nanosecond.
func appendMillis(buf []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		buf = append(buf, '-')
		u = -u // two's complement: right for math.MinInt64 too
	}
	buf = strconv.AppendUint(buf, u/1e6, 10)
	var digits [6]byte
	put6(&digits, u%1e6)
	n := 6
	for n > 1 && digits[n-1] == '0' {
		n--
	}
	return append(append(buf, '.'), digits[:n]...)
}

// appendSeconds writes d in seconds with six decimals. (Not one function
// with appendMillis: constant divisors compile to multiplications.)
func appendSeconds(buf []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		buf = append(buf, '-')
		u = -u
	}
	buf = strconv.AppendUint(buf, u/1e9, 10)
	var digits [6]byte
	put6(&digits, u%1e9/1e3)
	return append(append(buf, '.'), digits[:]...)
}

func put6(d *[6]byte, v uint64) {
	copy(d[4:], pairs[2*(v%100):])
	v /= 100
	copy(d[2:], pairs[2*(v%100):2*(v%100)+2])
	v /= 100
	copy(d[0:], pairs[2*v:2*v+2])
}

const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// appendFloat writes f as encoding/json does; NaN and ±Inf as strings.
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
	// Clean up e-09 to e-9, as encoding/json does.
	if n := len(buf); format == 'e' && n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
		buf[n-2] = buf[n-1]
		buf = buf[:n-1]
	}
	return buf
}

// timestampCache holds the last second's text, shared by most records.
type timestampCache struct {
	sec  int64
	text [19]byte
}

func appendTimestampCached(buf []byte, t time.Time, cache *atomic.Pointer[timestampCache]) []byte {
	sec := t.Unix()
	c := cache.Load()
	if c == nil || c.sec != sec {
		var tmp [30]byte
		out := appendTimestamp(tmp[:0], t)
		if len(out) != len(tmp) { // a year outside 0-9999
			return append(buf, out...)
		}
		c = &timestampCache{sec: sec}
		copy(c.text[:], out)
		cache.Store(c)
	}
	buf = append(buf, c.text[:]...)
	return appendFraction(buf, t.Nanosecond())
}

// appendFraction writes ".nnnnnnnnnZ".
func appendFraction(buf []byte, ns int) []byte {
	b := [11]byte{0: '.', 10: 'Z'}
	put6((*[6]byte)(b[4:]), uint64(ns%1e3))
	put6((*[6]byte)(b[1:]), uint64(ns/1e3))
	return append(buf, b[:]...)
}

// appendTimestamp writes t in UTC with a fixed nine-digit fraction, so
// strings sort in time order.
func appendTimestamp(buf []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(buf, "2006-01-02T15:04:05.000000000Z07:00")
	}
	hour, minute, sec := t.Clock()
	b := [19]byte{4: '-', 7: '-', 10: 'T', 13: ':', 16: ':'}
	copy(b[0:], pairs[2*(year/100):2*(year/100)+2])
	copy(b[2:], pairs[2*(year%100):2*(year%100)+2])
	copy(b[5:], pairs[2*int(month):2*int(month)+2])
	copy(b[8:], pairs[2*day:2*day+2])
	copy(b[11:], pairs[2*hour:2*hour+2])
	copy(b[14:], pairs[2*minute:2*minute+2])
	copy(b[17:], pairs[2*sec:2*sec+2])
	return appendFraction(append(buf, b[:]...), t.Nanosecond())
}

// plainText reports whether s needs neither escaping nor redaction (no '='
// or ':'), eight bytes at a time.
func plainText(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	if len(b) < 8 {
		w := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'} // quiet padding
		copy(w[:], b)
		return quietWord(binary.LittleEndian.Uint64(w[:]))
	}
	for i := 0; i+8 < len(b); i += 8 {
		if !quietWord(binary.LittleEndian.Uint64(b[i:])) {
			return false
		}
	}
	return quietWord(binary.LittleEndian.Uint64(b[len(b)-8:]))
}

// quietWord reports whether the eight bytes of w are all quiet (plainText).
func quietWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	equals := w ^ (ones * '=')
	colon := w ^ (ones * ':')
	return ((w-ones*0x20)&^w|(quote-ones)&^quote|(backslash-ones)&^backslash|
		(equals-ones)&^equals|(colon-ones)&^colon|w)&highs == 0
}
