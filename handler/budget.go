package handler

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// budgetInterval is how often the disk budget is checked besides rotation.
const budgetInterval = 10 * time.Second

// maintain keeps the directory within Options.MaxTotalBytes and
// Options.MaxSessions. Unless forced it runs at most every budgetInterval.
func (s *sink) maintain(force bool) {
	if s.opts.MaxTotalBytes <= 0 && s.opts.MaxSessions <= 0 {
		return
	}
	now := time.Now()
	if !force && now.Sub(s.lastMaintain) < budgetInterval {
		return
	}
	s.lastMaintain = now
	if err := s.enforceLimits(); err != nil {
		s.noteError(err, 0)
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
// MaxSessions), then this session's oldest segments.
//
// It counts and deletes only files it can tell are this session's, or a
// dead session's of the default naming (start times); another process's
// live session is found by its lock, whatever its ID, and left alone, and
// so is a file whose name could be either of two sessions'.
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
			if r.category == sessionCategory && r.segment == 0 {
				present[r.session] = true
			}
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
		st, err := s.ld.stat(name)
		if err != nil || !st.regular {
			continue
		}
		files = append(files, diskFile{fileName: r, name: name, size: st.size,
			mtime: st.mtime, live: open[name]})
		total += st.size
		sessions[r.session] = true
	}
	s.orderForDeletion(files)

	// Sessions beyond MaxSessions go whole, the oldest first.
	drop := map[string]bool{}
	if max := s.opts.MaxSessions; max > 0 && len(sessions) > max {
		var ids []string
		for id := range sessions {
			if id != s.sessionID {
				ids = append(ids, id)
			}
		}
		sort.Slice(ids, func(i, j int) bool { return compareSessionIDs(ids[i], ids[j]) < 0 })
		for _, id := range ids[:len(sessions)-max] {
			drop[id] = true
		}
	}
	var errs []error
	for _, f := range files {
		if f.live {
			continue
		}
		over := s.opts.MaxTotalBytes > 0 && total > s.opts.MaxTotalBytes
		if !over && !drop[f.session] {
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
	if n != 1 || owner.session != s.sessionID && !isStartTimeID(owner.session) {
		return fileName{}, false // not ours to count or delete
	}
	return owner, true
}

// isSessionFile reports whether f is a session's live session file.
func (f *diskFile) isSessionFile() bool {
	return f.segment == 0 && f.category == sessionCategory
}

// orderForDeletion sorts files oldest first: other sessions' by session
// (start time), then this session's. Within a session, segments go before
// live files, and the session file goes last; a category's segments by
// number (.999 before .1000), and the categories' segments interleaved by
// modification time.
func (s *sink) orderForDeletion(files []diskFile) {
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if (a.session == s.sessionID) != (b.session == s.sessionID) {
			return b.session == s.sessionID
		}
		if c := compareSessionIDs(a.session, b.session); c != 0 {
			return c < 0
		}
		if (a.segment == 0) != (b.segment == 0) {
			return b.segment == 0
		}
		if sa, sb := a.isSessionFile(), b.isSessionFile(); sa != sb {
			return sb // last: a session stays known (and lockable) to the end
		}
		if !a.mtime.Equal(b.mtime) {
			return a.mtime.Before(b.mtime)
		}
		if a.category != b.category {
			return a.category < b.category
		}
		return a.segment < b.segment
	})
	// Within a session and category, the segments take the places that
	// category has in that order, by number: a clock that went back, or a
	// touched file, cannot put a newer segment before an older one.
	type key struct{ session, category string }
	places := map[key][]int{}
	for i, f := range files {
		if f.segment > 0 {
			k := key{f.session, f.category}
			places[k] = append(places[k], i)
		}
	}
	for _, idx := range places {
		group := make([]diskFile, len(idx))
		for k, i := range idx {
			group[k] = files[i]
		}
		sort.Slice(group, func(i, j int) bool { return group[i].segment < group[j].segment })
		for k, i := range idx {
			files[i] = group[k]
		}
	}
}
