package handler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"syscall"
	"time"
)

const syscallNoFollow = syscall.O_NOFOLLOW

// Files of the default naming: <YYYYMMDD_HHMMSS>[_N][.SEG]_<category>.jsonl.
// Rotated segments (.001, .002, ...) sort before the live file and still
// match *_<category>.jsonl.
var ownFile = regexp.MustCompile(`^(\d{8}_\d{6}(?:_\d+)?)(?:\.(\d{3,}))?_[a-z0-9_-]+\.jsonl$`)

// segmentPath is the path of a category's rotated segment n.
func (s *sink) segmentPath(name string, n int) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s.%03d_%s.jsonl", s.sessionID, n, name))
}

// rotate moves c's live file aside as its next segment and opens a new
// live file. It runs on the writer goroutine.
func (s *sink) rotate(c *category) error {
	c.segments++
	seg := s.segmentPath(c.name, c.segments)
	if err := c.file.f.Close(); err != nil {
		return fmt.Errorf("handler: rotate %s: %w", c.file.path, err)
	}
	old := c.file
	c.file = nil
	if err := os.Rename(old.path, seg); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("handler: rotate %s: %w", old.path, err)
	}
	f, err := s.openFile(c.name, 0)
	if err != nil {
		return err
	}
	c.file = f
	s.maintain(true)
	return nil
}

// checkFiles reopens files deleted or replaced underneath (a cleanup cron,
// the directory removed): nothing goes on being written to an unlinked
// file. It runs every FlushInterval.
func (s *sink) checkFiles() {
	for _, c := range s.reg.all() {
		if c.file == nil {
			continue
		}
		fi, err := os.Lstat(c.file.path)
		if err == nil && os.SameFile(fi, c.file.info) {
			continue
		}
		c.file.f.Close()
		c.file = nil
		if err := os.MkdirAll(s.dir, s.opts.DirMode); err != nil {
			s.noteError(fmt.Errorf("handler: recreate log directory: %w", err), 0)
			continue
		}
		f, err := s.openFile(c.name, 0)
		if err != nil {
			s.noteError(err, 0)
			continue
		}
		c.file = f
		s.recreated.Add(1)
	}
}

// maintain keeps the directory within Options.MaxTotalBytes and
// Options.MaxSessions, deleting the oldest sessions' files first, then this
// session's oldest segments; never a live file. Unless forced it runs at
// most every budgetInterval.
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

// budgetInterval is how often the disk budget is checked besides rotation.
const budgetInterval = 10 * time.Second

type diskFile struct {
	path    string
	session string
	size    int64
	live    bool
}

// enforceLimits deletes files until the directory is within the limits.
func (s *sink) enforceLimits() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("handler: disk budget: %w", err)
	}
	live := map[string]bool{}
	for _, c := range s.reg.all() {
		if c.file != nil {
			live[c.file.path] = true
		}
	}
	var files []diskFile
	var total int64
	sessions := map[string]bool{s.sessionID: true}
	liveElsewhere := map[string]bool{}
	for _, e := range ents {
		m := ownFile.FindStringSubmatch(e.Name())
		own := len(m) > 0 && m[1] == s.sessionID
		if !own && len(e.Name()) > len(s.sessionID) && e.Name()[:len(s.sessionID)] == s.sessionID &&
			(e.Name()[len(s.sessionID)] == '_' || e.Name()[len(s.sessionID)] == '.') {
			own = true // this session's files under a custom session ID
		}
		if m == nil && !own {
			continue // not ours to count or delete
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		session := s.sessionID
		if !own {
			session = m[1]
			l, ok := liveElsewhere[session]
			if !ok {
				l = sessionLive(s.dir, session)
				liveElsewhere[session] = l
			}
			if l {
				continue // another process's live session: not ours to delete
			}
		}
		path := filepath.Join(s.dir, e.Name())
		files = append(files, diskFile{path: path, session: session, size: info.Size(), live: live[path]})
		total += info.Size()
		sessions[session] = true
	}
	// Oldest first: other sessions by ID (they are start times), then this
	// session's segments; names sort segments before the live file.
	sort.Slice(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if (a.session == s.sessionID) != (b.session == s.sessionID) {
			return b.session == s.sessionID
		}
		if a.session != b.session {
			return a.session < b.session
		}
		return a.path < b.path
	})
	// Sessions beyond MaxSessions go whole.
	drop := map[string]bool{}
	if max := s.opts.MaxSessions; max > 0 && len(sessions) > max {
		var ids []string
		for id := range sessions {
			if id != s.sessionID {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
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
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		total -= f.size
		s.deleted.Add(1)
	}
	return errors.Join(errs...)
}

// lockLive marks a session live for as long as its session file is open:
// other processes leave a live session's files alone (no repair, no
// deletion). The lock goes with the process, even killed.
func lockLive(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// sessionLive reports whether another process holds session's lock.
func sessionLive(dir, session string) bool {
	f, err := os.OpenFile(filepath.Join(dir, session+"_session.jsonl"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// repairPartialLines cuts a partial last line (left by a process killed in
// the middle of a write) off the files of the directory's earlier sessions,
// so that every line of every file decodes. It returns how many files it
// repaired.
func repairPartialLines(dir string, maxLine int) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	repaired := 0
	var errs []error
	live := map[string]bool{}
	for _, e := range ents {
		m := ownFile.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		l, ok := live[m[1]]
		if !ok {
			l = sessionLive(dir, m[1])
			live[m[1]] = l
		}
		if l {
			continue // another process is writing it
		}
		path := filepath.Join(dir, e.Name())
		ok, err := repairFile(path, maxLine)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			repaired++
		}
	}
	return repaired, errors.Join(errs...)
}

// repairFile truncates path after its last newline when it does not end
// with one.
func repairFile(path string, maxLine int) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscallNoFollow, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return false, err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, fi.Size()-1); err != nil {
		return false, err
	}
	if last[0] == '\n' {
		return false, nil
	}
	// Find the last newline, reading backwards at most a line's length.
	start := max(fi.Size()-int64(maxLine)-1, 0)
	tail := make([]byte, fi.Size()-start)
	if _, err := f.ReadAt(tail, start); err != nil && err != io.EOF {
		return false, err
	}
	cut := start
	if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
		cut = start + int64(i) + 1
	} else if start > 0 {
		return false, nil // a line longer than any we write: leave it to the reader
	}
	return true, f.Truncate(cut)
}
