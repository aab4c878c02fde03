package slogdebug

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"

	"github.com/proxydebug/debugmode/internal/safego"
)

// ErrClosed is returned by SetDebug after Close.
var ErrClosed = errors.New("slogdebug: logger closed")

// SetDebug switches debug mode: on resumes the session (debug_enabled);
// off writes what is queued, marks debug_disabled and closes the files.
// On answers the error of the bad settings that keep debug mode off (said
// at start-up), or of a directory it cannot write in.
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
	if on && l.veto != nil {
		return l.veto
	}
	if old.dumper != nil {
		old.dumper.close() // the flight recorder's files close first
	}
	st, err := l.buildState(on)
	if err != nil {
		if old.dumper != nil {
			// Debug mode stays off: a new recorder and dumper take over.
			if off, offErr := l.buildState(false); offErr == nil {
				l.publish(off)
				l.retireStress(old.stress)
			}
		}
		return err
	}
	if old.files != nil {
		// Closed before the new set-up is published: its flight recorder's
		// dumps resume this session, which must not be open then. A record
		// logged meanwhile reaches the closed files and counts as dropped.
		err = old.closeFiles("debug_disabled")
	}
	l.publish(st)
	l.retireStress(old.stress)
	return err
}

// ToggleOnSignal makes sig (such as SIGUSR1) toggle debug mode; stop stops.
func (l *Logger) ToggleOnSignal(sig ...os.Signal) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sig...)
	reported := false
	return watchSignals(ch, func(s os.Signal) bool {
		// A panic must not take the process down: recovered, reported once.
		p := safego.Call(func() {
			on := !l.DebugMode()
			if err := l.SetDebug(on); err != nil {
				l.Error("debug mode: switching on signal failed", "signal", s.String(), "error", err)
				return
			}
			l.Warn("debug mode switched by signal", "signal", s.String(), "debug_mode", on, "session", l.SessionID(), "dir", l.Dir())
		})
		if p != nil && !reported {
			reported = true
			_ = safego.Call(func() {
				l.Error("debug mode: switching on signal panicked; recovered (a bug of debugmode, please report it)", "signal", s.String(), "error", p)
			})
		}
		return true
	})
}

// watchSignals calls f, on a goroutine, with each signal ch receives until
// f returns false or stop is called; stop waits for f, then stops ch.
func watchSignals(ch chan os.Signal, f func(os.Signal) bool) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if !f(s) {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			signal.Stop(ch)
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

// AdminSwitch is the body of a request that switches debug mode.
type AdminSwitch struct {
	DebugMode *bool `json:"debug_mode"`
}

const adminUsage = `want a JSON body: {"debug_mode": true} or {"debug_mode": false}, sent with PUT or POST and Content-Type: application/json`

// AdminHandler shows debug mode on GET (AdminState) and switches it on PUT
// or POST of application/json {"debug_mode": true}; SetDebug's error is the
// answer's body (409 for bad settings). Cross-site requests get 403, but it
// has no authentication: serve it on loopback only.
func (l *Logger) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut, http.MethodPost:
			on, status, err := adminSwitch(r)
			if err == nil {
				status, err = http.StatusInternalServerError, l.SetDebug(on)
				var veto *vetoError
				if errors.As(err, &veto) {
					status = http.StatusConflict // the configuration, not the request
				}
			}
			if err != nil {
				http.Error(w, err.Error(), status)
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT, POST")
			http.Error(w, "want GET to see debug mode; to switch it, "+adminUsage, http.StatusMethodNotAllowed)
			return
		}
		st := l.Stats()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(AdminState{DebugMode: l.DebugMode(), SessionID: l.SessionID(), Dir: l.Dir(),
			Written: st.Written, Dropped: st.Dropped, Failed: st.Failed})
	})
}

// adminSwitch reads a switch, refusing one a web page of another site could send.
func adminSwitch(r *http.Request) (on bool, status int, err error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return false, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: %s", r.Header.Get("Content-Type"), adminUsage)
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return false, http.StatusForbidden, fmt.Errorf("refused: a %s request (Sec-Fetch-Site); switch debug mode from the admin host itself (curl)", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return false, http.StatusForbidden, fmt.Errorf("refused: Origin %q is not this host (%s); switch debug mode from the admin host itself (curl)", origin, r.Host)
		}
	}
	var body AdminSwitch
	dec := json.NewDecoder(io.LimitReader(r.Body, 1024))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.DebugMode == nil || dec.More() {
		return false, http.StatusBadRequest, errors.New(adminUsage)
	}
	return *body.DebugMode, 0, nil
}

// CloseOnSignal closes the Logger on sig, then re-raises it (ignored
// signals stay ignored). closeNow stops listening and closes the Logger.
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
