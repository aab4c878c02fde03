// Package jsonenc writes JSON as the debug files hold it: strings quoted so no
// value can break a line, values marshalled without HTML escaping.
package jsonenc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"
)

// MarshalFailure is how a value that could not be marshalled is written.
func MarshalFailure(err error) string { return "!ERROR:" + err.Error() }

// PanicError is Marshal's error for a value whose marshalling panicked.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("marshal panicked: %v", e.Value) }

// Marshal is json.Marshal without HTML escaping, recovering panics.
func Marshal(x any) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &PanicError{Value: r}
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

// Render is how the files write a Go value: Marshal's JSON, except that a
// value whose JSON is {} (no exported field) and that has a String method
// is its String, as a JSON string. Never fmt: a cyclic value is an error,
// not a stack overflow.
func Render(x any) ([]byte, error) {
	out, err := Marshal(x)
	if err != nil || string(out) != "{}" {
		return out, err
	}
	if s, ok := x.(fmt.Stringer); ok {
		text, err := stringOf(s)
		if err != nil {
			return nil, err
		}
		return AppendString(nil, text), nil
	}
	return out, nil
}

func stringOf(s fmt.Stringer) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			text, err = "", &PanicError{Value: r}
		}
	}()
	return s.String(), nil
}

// AppendString writes s as a quoted JSON string; control characters and
// U+2028/U+2029 are escaped, invalid UTF-8 becomes U+FFFD.
func AppendString(buf []byte, s string) []byte {
	n := plainPrefix(s)
	buf, _ = appendEscaped(append(append(buf, '"'), s[:n]...), s[n:], math.MaxInt)
	return append(buf, '"')
}

// plainPrefix returns the length of s's prefix needing no escaping.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	b := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		quote := w ^ (ones * '"')
		backslash := w ^ (ones * '\\')
		// A byte below 0x20, a zero byte in quote or backslash (the byte
		// was '"' or '\\'), or a high bit (non-ASCII) needs a look.
		if ((w-ones*0x20)&^w|(quote-ones)&^quote|(backslash-ones)&^backslash|w)&highs != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf && safe[s[i]] {
		i++
	}
	return i
}

// AppendStringLimited is AppendString in at most max bytes, reporting a cut
// (on a character boundary, never inside an escape).
func AppendStringLimited(buf []byte, s string, max int) ([]byte, bool) {
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
		piece, size := s[i:i+1], 1
		if b := s[i]; b < utf8.RuneSelf && !safe[b] {
			piece = escapes[b]
		} else if b >= utf8.RuneSelf {
			var c rune
			c, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case c == utf8.RuneError && size == 1:
				piece = `\ufffd`
			case c == '\u2028' || c == '\u2029':
				piece = [...]string{`\u2028`, `\u2029`}[c-'\u2028']
			default:
				piece = s[i : i+size]
			}
		}
		if len(buf)+len(piece) > end {
			return buf, true
		}
		buf = append(buf, piece...)
		i += size
	}
	return buf, false
}

// safe holds true for the ASCII bytes that need no escaping in a JSON
// string; escapes holds the escapes of the others.
var safe, escapes = func() (t [utf8.RuneSelf]bool, e [utf8.RuneSelf]string) {
	for b := range t {
		t[b] = b >= 0x20 && b != '"' && b != '\\'
		e[b] = fmt.Sprintf(`\u%04x`, b)
	}
	e['"'], e['\\'], e['\n'], e['\r'], e['\t'] = `\"`, `\\`, `\n`, `\r`, `\t`
	return t, e
}()
