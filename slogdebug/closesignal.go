package slogdebug

import (
	"os"
	"os/signal"

	"github.com/proxydebug/debugmode/internal/safego"
)

// CloseOnSignal makes the Logger close itself when one of the signals
// arrives, then raises the signal again with the Logger's handling of it
// removed, so that a program that does not handle it ends as before
// (killed by SIGTERM, for docker stop): the last records and session_end
// reach the files, which a deferred Close cannot do. The returned function
// stops listening and closes the Logger:
//
//	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()
//
// A program that handles these signals itself (a graceful shutdown) would
// receive them twice: it should call Close at the end of its shutdown
// instead. Nothing runs on os.Exit (log.Fatal): call Close before it. A
// signal the program ignores is left ignored.
func (l *Logger) CloseOnSignal(sig ...os.Signal) (closeNow func() error) {
	listened := make([]os.Signal, 0, len(sig))
	for _, s := range sig {
		if !signal.Ignored(s) {
			listened = append(listened, s)
		}
	}
	ch := make(chan os.Signal, 1)
	if len(listened) > 0 {
		signal.Notify(ch, listened...)
	}
	stop := watchSignals(ch, func(s os.Signal) bool {
		// Whatever Close does, the signal goes on, its action the default
		// again (unless the program has a handling of its own).
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
