//go:build debugmode_notint

package slogdebug

import (
	"io"
	"log/slog"
)

// ourConsole, built with -tags debugmode_notint, is slog's TextHandler on
// w, without colour: for a program whose console is its own
// (Config.Console), so that it links no tint; one without a console of
// its own still gets one.
func ourConsole(w io.Writer, level slog.Level, _ bool, replace func([]string, slog.Attr) slog.Attr) (string, slog.Handler) {
	return "slog text handler (debugmode_notint)", slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replace})
}
