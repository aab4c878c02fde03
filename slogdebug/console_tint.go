//go:build !debugmode_notint

package slogdebug

import (
	"io"
	"log/slog"
	"sync"

	"github.com/lmittmann/tint"
)

// ourConsole is the console when the program brings none: tint on w. A
// program with a console of its own (Config.Console) that builds with
// -tags debugmode_notint links no tint (console_notint.go).
//
// Without colour (w no terminal, NO_COLOR, Config.NoColor), tint writes its
// colour lines into a writer that removes the colour sequences: its own
// NoColor strips them from every key and string value through a rune slice
// and a string (8 allocations and 1.8 µs for a three-attribute line, where
// the lines of a proxy's stderr are usually not a terminal's); the lines
// are the same (TestConsoleWithoutColourIsTintsNoColor, FuzzConsoleWithoutColour)
// but for an ESC of a key's or a value's own that starts no sequence,
// written as the text \x1b (uncoloured).
func ourConsole(w io.Writer, level slog.Level, noColor bool, replace func([]string, slog.Attr) slog.Attr) (string, slog.Handler) {
	if noColor {
		w = &uncoloured{w: w}
	}
	return "tint", tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: "15:04:05.000", ReplaceAttr: replace})
}

// uncoloured writes each line without its ANSI escape sequences: a
// sequence (ESC, then [ and parameter bytes, then a letter; or ESC and a
// letter), as tint's NoColor cuts it. Every sequence of tint's own is one.
// An ESC that starts none is a key's or a value's own (an error's text, a
// remote answer; a literal \x1b is one too, tint's colour quoting turns it
// into a backslash and an ESC): it is written as the text \x1b, never cut
// up to some later letter, which would eat the separators, the next
// attribute or the line's newline (TestConsoleWithoutColourKeepsEachLineWhole).
type uncoloured struct {
	w   io.Writer
	mu  sync.Mutex
	buf []byte
}

func (u *uncoloured) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	b := u.buf[:0]
	for i := 0; i < len(p); i++ {
		if p[i] != 0x1b {
			b = append(b, p[i])
			continue
		}
		if n := sequenceLen(p[i:]); n > 0 {
			i += n - 1
			continue
		}
		b = append(b, `\x1b`...)
	}
	if cap(b) <= 16<<10 { // as slog's pooled buffers
		u.buf = b
	}
	if _, err := u.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sequenceLen is the length of the escape sequence p starts with (p[0] is
// ESC), or 0: ESC and a letter, or ESC [, parameter bytes (0x30-0x3F: no
// space, quote or newline of tint's), and a letter.
func sequenceLen(p []byte) int {
	i := 1
	if i < len(p) && p[i] == '[' {
		for i++; i < len(p) && 0x30 <= p[i] && p[i] <= 0x3f; i++ {
		}
	}
	if i < len(p) && isLetter(p[i]) {
		return i + 1
	}
	return 0
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
