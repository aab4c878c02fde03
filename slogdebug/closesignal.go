package slogdebug

import (
	"os"
	"os/signal"
	"sync"

	"github.com/proxydebug/debugmode/internal/safego"
)

// CloseOnSignal makes the Logger close itself when one of the signals
// arrives, and then lets the signal do what it would have done: it is
// raised again with the Logger's handling of it removed, so that a program
// that does not handle it ends as before (killed by SIGTERM, exit status
// 143 in a shell, for docker stop). The last flush interval and
// session_end reach the files, which a deferred Close alone cannot do:
// defers do not run when a signal ends the program.
//
// It returns a function that stops listening and closes the Logger: defer
// it, and the Logger is closed on return from main as well, in one line:
//
//	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()
//
// It is for a program that leaves these signals to their default action.
// One that handles them itself (signal.NotifyContext, a graceful shutdown)
// would receive the signal a second time: it should rather call Close at
// the end of its own shutdown. Nothing can run on os.Exit (log.Fatal
// included): call Close before it.
//
// A signal the program ignores (a server started in the background by a
// shell ignores SIGINT) is left ignored: listening for it would make it
// do something where it did nothing.
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
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-done:
		case s := <-ch:
			// Whatever Close does, the signal goes on; with the Logger's
			// handling stopped, its action is the default again (unless the
			// program has a handling of its own).
			_ = safego.Call(func() { _ = l.Close() })
			signal.Stop(ch)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(s)
			}
		}
	}()
	var once sync.Once
	return func() error {
		once.Do(func() {
			close(done)
			<-finished
			signal.Stop(ch)
		})
		return l.Close()
	}
}
