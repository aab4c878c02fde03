package slogdebug

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
)

// ErrClosed is returned by SetDebug after Close.
var ErrClosed = errors.New("slogdebug: logger closed")

// SetDebug switches debug mode on or off at run time. Switched on, it
// opens the files (the first time a new session; after that the same
// session again, marked with a debug_enabled line) and starts stress
// detection; switched off, it writes what is queued, marks the session file
// with debug_disabled and closes the files. Records logged while the switch
// happens go to the old set-up or the new one; one that reaches the files
// just as they close is counted as dropped. SetDebug is safe for concurrent
// use; switching to the current state does nothing.
func (l *Logger) SetDebug(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	old := l.st.Load()
	if old.on == on {
		return nil
	}
	st, err := l.buildState(on)
	if err != nil {
		return err
	}
	l.publish(st)
	if old.files != nil {
		return old.closeFiles("debug_disabled")
	}
	return nil
}

// ToggleOnSignal makes the given signals (typically syscall.SIGUSR1) toggle
// debug mode: `kill -USR1 <pid>` during an incident, no restart needed. It
// is opt-in; call the returned function to stop listening. The outcome of
// each toggle is logged on the console.
func (l *Logger) ToggleOnSignal(sig ...os.Signal) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig...)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				on := !l.DebugMode()
				if err := l.SetDebug(on); err != nil {
					l.Error("debug mode: switching on signal failed", "signal", s.String(), "error", err)
					continue
				}
				l.Warn("debug mode switched by signal", "signal", s.String(), "debug_mode", on, "session", l.SessionID(), "dir", l.Dir())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			<-finished
		})
	}
}

// AdminState is what the admin handler reports.
type AdminState struct {
	DebugMode bool   `json:"debug_mode"`
	SessionID string `json:"session_id,omitempty"`
	Dir       string `json:"dir"`
	Written   uint64 `json:"records_written"`
	Dropped   uint64 `json:"records_dropped"`
	Failed    uint64 `json:"records_failed"`
}

// AdminHandler returns an http.Handler to see and switch debug mode:
// GET reports the state as JSON; PUT or POST with on/off (true/false, 1/0,
// yes/no) as the body, or ?debug=on, switches it and reports the new state.
//
// It has no authentication of its own: serve it on a loopback-only
// listener (127.0.0.1, an admin port not exposed by the container), never
// on the proxy's public address.
func (l *Logger) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut, http.MethodPost:
			v := r.URL.Query().Get("debug")
			if v == "" {
				body, err := io.ReadAll(io.LimitReader(r.Body, 64))
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				v = strings.TrimSpace(string(body))
			}
			on, err := parseBool(v)
			if err != nil {
				http.Error(w, fmt.Sprintf("debug=%q: want on/off (true/false, 1/0, yes/no)", v), http.StatusBadRequest)
				return
			}
			if err := l.SetDebug(on); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT, POST")
			http.Error(w, "want GET to see debug mode, PUT or POST to switch it", http.StatusMethodNotAllowed)
			return
		}
		st := l.Stats()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(AdminState{DebugMode: l.DebugMode(), SessionID: l.SessionID(), Dir: l.Dir(),
			Written: st.Written, Dropped: st.Dropped, Failed: st.Failed})
	})
}
