package handler

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// A session is live while its owner holds its session file's exclusive
// lock (flock(2), LockFileEx on Windows), released even if killed. Others
// leave a live session alone; they hold the shared lock while repairing or
// deleting a dead one's files, so it cannot be resumed meanwhile. The
// session file is locked before it takes its name, so never found unlocked.
//
// The owner locks every live file of its session the same way, so a
// session whose session file was deleted underneath (an age-based cleanup:
// it is written only at start) is still found live by its other files
// until the owner recreates it. A session paused with CloseWith keeps its
// session file's lock until Close, or until a Handler resumes it.

// lockPatience bounds lockOwner's wait for shared-lock holders.
const lockPatience = 2 * time.Second

// lockOwner takes f's exclusive lock, marking the session live; shared
// holders are waited for up to patience.
func lockOwner(f *os.File, patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		err := tryLock(f, true)
		if err != errLocked {
			// Locked, or no locks on this file system: then others cannot
			// get the shared lock either, and take the session for live.
			return nil
		}
		if tryLock(f, false) != nil {
			return fmt.Errorf("handler: session file %s is locked by another handler: the session is in use (give this one another session ID)", f.Name())
		}
		_ = unlock(f) // only others looking at it, or repairing its files
		if time.Now().After(deadline) {
			return fmt.Errorf("handler: session file %s stayed locked by other handlers for %v", f.Name(), patience)
		}
		time.Sleep(time.Millisecond)
	}
}

var errLocked = errors.New("locked by another handler") // tryLock's error when another holds the lock

type liveness int

const (
	absent liveness = iota // no session file: its files are left over
	dead                   // its session file is not locked by an owner
	live                   // an owner holds its session file's lock, or it cannot be told
)

// sessionGuard holds the shared lock of sessions found dead until release.
type sessionGuard struct {
	d     *logDir
	state map[string]liveness
	held  []*os.File
	names []string // the directory's, read once when a session file is absent
}

func newSessionGuard(d *logDir) *sessionGuard {
	return &sessionGuard{d: d, state: map[string]liveness{}}
}

// lockedFile reports whether another open file holds an exclusive lock
// on one of session's files: an owner whose session file was deleted.
func (g *sessionGuard) lockedFile(session string) bool {
	if g.names == nil {
		names, err := g.d.names()
		if err != nil {
			return true // cannot tell: leave it alone
		}
		g.names = names
	}
	for _, name := range g.names {
		if !slices.ContainsFunc(parseFileName(name), func(r fileName) bool { return r.session == session && !r.trace }) {
			continue
		}
		f, _, err := g.d.openFile(name, os.O_RDONLY, 0)
		if err != nil {
			continue // gone meanwhile, or not a regular file
		}
		err = tryLock(f, false)
		f.Close()
		if err == errLocked {
			return true
		}
	}
	return false
}

// check returns what session is; a dead session stays dead until release.
func (g *sessionGuard) check(session string) liveness {
	if st, ok := g.state[session]; ok {
		return st
	}
	st := g.probe(session)
	g.state[session] = st
	return st
}

// probe reports whether session is live, taking its shared lock if not.
func (g *sessionGuard) probe(session string) liveness {
	name := sessionFileName(session)
	for range 3 {
		f, st, err := g.d.openFile(name, os.O_RDONLY, 0)
		if os.IsNotExist(err) {
			if g.lockedFile(session) {
				return live
			}
			return absent
		}
		if err != nil {
			return live // cannot tell: leave it alone
		}
		if tryLock(f, false) != nil {
			f.Close()
			return live
		}
		if g.d.holds(name, st.id) {
			g.held = append(g.held, f)
			return dead
		}
		// The file was rotated or replaced since it was opened: its owner
		// may have let go of the lock of the old one.
		f.Close()
	}
	return live
}

func (g *sessionGuard) release() {
	for _, f := range g.held {
		f.Close()
	}
	g.held, g.names = nil, nil
	clear(g.state)
}
