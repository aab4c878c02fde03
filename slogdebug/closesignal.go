package slogdebug

import (
	"os"
	"os/signal"
	"slices"

	"github.com/proxydebug/debugmode/internal/safego"
)

// CloseOnSignal makes the Logger close itself when one of the signals
// arrives (a signal the program ignores is left ignored), then raises it
// again with its default action, so that the program ends as before and
// session_end reaches the files. For a program that does not handle these
// signals itself. The returned function stops listening and closes the
// Logger:
//
//	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()
func (l *Logger) CloseOnSignal(sig ...os.Signal) (closeNow func() error) {
	listened := slices.DeleteFunc(slices.Clone(sig), signal.Ignored)
	ch := make(chan os.Signal, 1)
	if len(listened) > 0 {
		signal.Notify(ch, listened...)
	}
	stop := watchSignals(ch, func(s os.Signal) bool {
		// Whatever Close does, the signal goes on, to its default action.
		_ = safego.Call(func() { _ = l.Close() })
		signal.Stop(ch)
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			_ = p.Signal(s)
		}
		return false
	})
	return func() error {
		stop()
		return l.Close()
	}
}
