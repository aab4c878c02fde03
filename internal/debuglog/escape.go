package debuglog

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escapeText makes text from a debug file safe to print on a terminal:
// control characters (ESC, BEL, CR, LF, the C1 range, ...), invalid UTF-8
// and the Unicode format characters that reorder text (bidi overrides) are
// written as Go escapes (\x1b, \n, \u202e), so a logged value can neither
// drive the terminal nor forge a line of output. Backslashes are doubled so
// an escape in the output always means an escaped byte.
func escapeText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return escapeAll(s)
}

// safeText is a message as it can be printed: unchanged when nothing in it
// could drive a terminal or break a line (backslashes included, so that an
// escape made at the source, a path or a %q, is not escaped twice), else
// escaped as escapeText does. It is the last guard on every message the
// command prints.
func safeText(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return escapeAll(s)
		}
		i += size
	}
	return s
}

func escapeAll(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(r)>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(r)&0xf, 16))
		case (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRuneToASCII(r) // '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// CommandLine writes a command's arguments as a POSIX shell reads them
// back: an argument of plain characters as it is, any other in single
// quotes, and one holding a control character or invalid UTF-8 as $'...'
// with escapes (bash, zsh and ksh read it), so that what is printed can be
// pasted as it is and can never drive the terminal.
func CommandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(a string) string {
	if a == "" {
		return "''"
	}
	plain := true
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_@%+=:,./-", c) >= 0) {
			plain = false
			break
		}
	}
	if plain {
		return a
	}
	if safeText(a) == a { // nothing a terminal acts on: single quotes hold it as it is
		return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(a); {
		r, size := utf8.DecodeRuneInString(a[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(a[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(a[i])&0xf, 16))
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(a[i : i+size])
		}
		i += size
	}
	b.WriteString("'")
	return b.String()
}
