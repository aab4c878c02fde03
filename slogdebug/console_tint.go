//go:build !debugmode_notint

package slogdebug

import (
	"io"
	"log/slog"

	"github.com/lmittmann/tint"
)

// ourConsole is the console when the program brings none: tint on w. A
// program with a console of its own (Config.Console) that builds with
// -tags debugmode_notint links no tint (console_notint.go).
func ourConsole(w io.Writer, level slog.Level, noColor bool, replace func([]string, slog.Attr) slog.Attr) (string, slog.Handler) {
	return "tint", tint.NewTextHandler(w, &tint.Options{Level: level, TimeFormat: "15:04:05.000", NoColor: noColor, ReplaceAttr: replace})
}
