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

// maintain enforces MaxTotalBytes and MaxSessions, at most every budgetInterval.
func (s *sink) maintain(force bool) {
	limited := s.opts.MaxTotalBytes > 0 || s.opts.MaxSessions > 0
	if now := time.Now(); limited && (force || now.Sub(s.lastMaintain) >= budgetInterval) {
		s.lastMaintain = now
		if err := s.enforceLimits(); err != nil {
			s.noteError(err, 0)
		}
	}
}

type diskFile struct {
	fileName
	name  string
	size  int64
	mtime time.Time
	live  bool // this session's open file: never deleted
}

// enforceLimits deletes the oldest dead sessions' files, then this
// session's oldest segments; a live session (by its lock) or an ambiguous
// name is never touched.
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

	// Drop the oldest sessions beyond MaxSessions.
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

// budgetOwner returns the one reading the budget may count (this session's
// or a default-named one's); an ambiguous name is not counted.
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

// orderForDeletion sorts files oldest first, other sessions before this
// one, segments before live files, the session file last (it stays
// lockable), and a session's execution-trace snapshots after its other files.
func (s *sink) orderForDeletion(files []diskFile) {
	isSessionFile := func(f diskFile) bool { return f.segment == 0 && f.category == sessionCategory }
	slices.SortStableFunc(files, func(a, b diskFile) int {
		return cmp.Or(falseFirst(a.session == s.sessionID, b.session == s.sessionID),
			compareSessionIDs(a.session, b.session),
			falseFirst(a.trace, b.trace), // a stress line names it: kept past the routine lines
			falseFirst(a.segment == 0, b.segment == 0),
			falseFirst(isSessionFile(a), isSessionFile(b)),
			a.mtime.Compare(b.mtime),
			strings.Compare(a.category, b.category),
			cmp.Compare(a.segment, b.segment))
	})
	// Reorder each category's segments by number: clocks can go back.
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

func falseFirst(a, b bool) int {
	if a == b {
		return 0
	} else if a {
		return 1
	}
	return -1
}
