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
// are the same (TestConsoleWithoutColourIsTintsNoColor).
func ourConsole(w io.Writer, level slog.Level, noColor bool, replace func([]string, slog.Attr) slog.Attr) (string, slog.Handler) {
	if noColor {
		w = &uncoloured{w: w}
	}
	return "tint", tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: "15:04:05.000", ReplaceAttr: replace})
}

// uncoloured writes each line without its ANSI escape sequences, as tint's
// NoColor cuts them: from ESC up to and including the next letter.
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
		for i++; i < len(p) && !isLetter(p[i]); i++ {
		}
	}
	if cap(b) <= 16<<10 { // as slog's pooled buffers
		u.buf = b
	}
	if _, err := u.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
