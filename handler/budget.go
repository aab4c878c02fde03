package handler

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

const budgetInterval = 10 * time.Second // how often the disk budget is checked besides rotation

// maintain keeps the directory within Options.MaxTotalBytes and
// Options.MaxSessions. Unless forced it runs at most every budgetInterval.
func (s *sink) maintain(force bool) {
	limited := s.opts.MaxTotalBytes > 0 || s.opts.MaxSessions > 0
	if now := time.Now(); limited && (force || now.Sub(s.lastMaintain) >= budgetInterval) {
		s.lastMaintain = now
		if err := s.enforceLimits(); err != nil {
			s.noteError(err, 0)
		}
	}
}

// diskFile is a file the disk budget counts.
type diskFile struct {
	fileName
	name  string
	size  int64
	mtime time.Time
	live  bool // this session's open file: never deleted
}

// enforceLimits deletes files until the directory is within the limits:
// the oldest dead sessions' files first (whole sessions beyond
// MaxSessions), then this session's oldest segments. It counts and deletes
// only this session's files and dead sessions' of the default naming
// (start times): another process's live session is found by its lock,
// whatever its ID, and left alone, and so is a file whose name could be
// either of two sessions'.
func (s *sink) enforceLimits() error {
	names, err := s.ld.names()
	if err != nil {
		return fmt.Errorf("handler: disk budget: %w", err)
	}
	guard := newSessionGuard(s.ld)
	defer guard.release()
	open := map[string]bool{}
	for _, c := range s.reg.all() {
		if c.file != nil {
			open[c.file.name] = true
		}
	}
	present := map[string]bool{} // sessions with a session file
	for _, name := range names {
		for _, r := range parseFileName(name) {
			present[r.session] = present[r.session] || r.category == sessionCategory && r.segment == 0
		}
	}
	var files []diskFile
	var total int64
	sessions := map[string]bool{s.sessionID: true}
	for _, name := range names {
		r, ok := s.budgetOwner(parseFileName(name), present)
		if !ok || r.session != s.sessionID && guard.check(r.session) == live {
			continue
		}
		if st, err := s.ld.stat(name); err == nil && st.regular {
			files = append(files, diskFile{fileName: r, name: name, size: st.size, mtime: st.mtime, live: open[name]})
			total += st.size
			sessions[r.session] = true
		}
	}
	s.orderForDeletion(files)

	// Sessions beyond MaxSessions are dropped, the oldest: other sessions
	// come first in files, oldest first.
	drop, excess := map[string]bool{}, len(sessions)-s.opts.MaxSessions
	var errs []error
	for _, f := range files {
		if s.opts.MaxSessions > 0 && excess > 0 && f.session != s.sessionID && !drop[f.session] {
			drop[f.session], excess = true, excess-1
		}
		if f.live || !drop[f.session] && (s.opts.MaxTotalBytes <= 0 || total <= s.opts.MaxTotalBytes) {
			continue
		}
		if err := s.ld.remove(f.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("handler: disk budget: %w", err))
			continue
		}
		total -= f.size
		s.deleted.Add(1)
	}
	return errors.Join(errs...)
}

// budgetOwner returns the one reading of a file's name that the budget may
// count: this session's, or another session's of the default naming.
// Readings of sessions that have no session file and are not of the
// default naming are left out (proxy_engine_selection.jsonl is session
// proxy's engine_selection, unless a session proxy_engine exists). A name
// left with two readings could be either session's: it is not counted.
func (s *sink) budgetOwner(readings []fileName, present map[string]bool) (fileName, bool) {
	var owner fileName
	n := 0
	for _, r := range readings {
		if r.session == s.sessionID || present[r.session] || isStartTimeID(r.session) {
			owner = r
			n++
		}
	}
	return owner, n == 1 && (owner.session == s.sessionID || isStartTimeID(owner.session))
}

// orderForDeletion sorts files oldest first: other sessions' by session
// (start time), then this session's. Within a session, segments go before
// live files, and the session file goes last (a session stays known, and
// lockable, to the end); the categories' segments interleaved by
// modification time, each category's by number (.999 before .1000).
func (s *sink) orderForDeletion(files []diskFile) {
	isSessionFile := func(f diskFile) bool { return f.segment == 0 && f.category == sessionCategory }
	slices.SortStableFunc(files, func(a, b diskFile) int {
		return cmp.Or(falseFirst(a.session == s.sessionID, b.session == s.sessionID),
			compareSessionIDs(a.session, b.session),
			falseFirst(a.segment == 0, b.segment == 0),
			falseFirst(isSessionFile(a), isSessionFile(b)),
			a.mtime.Compare(b.mtime),
			strings.Compare(a.category, b.category),
			cmp.Compare(a.segment, b.segment))
	})
	// A category's segments then take the places it has in that order by
	// number: a clock that went back, or a touched file, cannot put a newer
	// segment before an older one.
	type key struct{ session, category string }
	queue := map[key][]diskFile{}
	for _, f := range files {
		if f.segment > 0 {
			queue[key{f.session, f.category}] = append(queue[key{f.session, f.category}], f)
		}
	}
	for _, q := range queue {
		slices.SortFunc(q, func(a, b diskFile) int { return cmp.Compare(a.segment, b.segment) })
	}
	for i, f := range files {
		if k := (key{f.session, f.category}); f.segment > 0 {
			files[i], queue[k] = queue[k][0], queue[k][1:]
		}
	}
}

// falseFirst orders false before true.
func falseFirst(a, b bool) int {
	if a == b {
		return 0
	} else if a {
		return 1
	}
	return -1
}
