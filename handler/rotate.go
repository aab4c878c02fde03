package handler

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

const maxSegmentTries = 100 // bounds the search for a free segment name

// rotate moves c's live file aside as its next segment. No file is ever
// replaced (the segment is a hard link), and the live name never goes
// missing: the successor, locked if the session file, is renamed over it.
func (s *sink) rotate(c *category) error {
	old := c.file
	f, err := s.newLiveFile(c)
	if err != nil {
		return fmt.Errorf("handler: rotate %s: %w", old.path, err)
	}
	n, kept, err := s.keepSegment(c, old.name)
	if err == nil {
		if err = s.ld.rename(f.name, old.name); err != nil { // undo keepSegment: the live file goes on
			if seg := segmentName(s.sessionID, n, c.name); kept == linked {
				_ = s.ld.remove(seg)
			} else if kept == renamed {
				_ = s.ld.rename(seg, old.name)
			}
		}
	}
	if err != nil {
		f.f.Close()
		_ = s.ld.remove(f.name)
		return fmt.Errorf("handler: rotate %s: %w", old.path, err)
	}
	if kept != notKept {
		c.segments = n
	}
	f.name, f.path = old.name, old.path
	c.file = f
	if err := old.f.Close(); err != nil {
		s.noteError(fmt.Errorf("handler: rotate %s: %w", old.path, err), 0)
	}
	s.maintain(true)
	return nil
}

// rotationTemp names a live file's successor: hidden, no debug file's name.
func rotationTemp(live string) string { return "." + live + ".new" }

// rotationTempTarget returns the live name a temporary name is for.
func rotationTempTarget(name string) (string, bool) {
	if len(name) < 2 || name[0] != '.' {
		return "", false
	}
	return strings.CutSuffix(name[1:], ".new")
}

// newLiveFile makes c's next live file under its temporary name.
func (s *sink) newLiveFile(c *category) (*fileState, error) {
	tmp := rotationTemp(liveName(s.sessionID, c.name))
	if err := s.ld.remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err // a leftover of a rotation cut short
	}
	f, st, err := s.ld.openFile(tmp, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, s.opts.FileMode)
	if err != nil {
		return nil, err
	}
	if err := lockOwner(f, lockPatience); err != nil && c == s.session {
		f.Close()
		_ = s.ld.remove(tmp)
		return nil, err
	} // a category file's lock only backs the session file's up (live.go)
	return &fileState{f: f, name: tmp, path: s.ld.join(tmp), id: st.id}, nil
}

// How keepSegment kept the live file as a segment.
const (
	notKept = iota // the live file was gone (deleted underneath)
	linked         // a hard link: the live name still names it
	renamed        // renamed: on file systems without hard links
)

// keepSegment links c's live file as its next segment (renaming where
// hard links are missing) and returns its number.
func (s *sink) keepSegment(c *category, live string) (n, kept int, err error) {
	n, kept = c.segments+1, linked
	if c.segments == 0 {
		n = s.highestSegment(c.name) + 1
	}
	for range maxSegmentTries {
		seg := segmentName(s.sessionID, n, c.name)
		if kept == linked {
			err = s.ld.link(live, seg)
		} else if _, err = s.ld.stat(seg); errors.Is(err, os.ErrNotExist) {
			err = s.ld.rename(live, seg)
		} else {
			err = os.ErrExist
		}
		switch {
		case err == nil:
			return n, kept, nil
		case errors.Is(err, os.ErrExist):
			n = max(n, s.highestSegment(c.name)) + 1
		case errors.Is(err, os.ErrNotExist):
			return n, notKept, nil
		case kept == linked && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EMLINK)):
			kept = renamed
		default:
			return 0, 0, err
		}
	}
	return 0, 0, fmt.Errorf("no free segment name after %s", segmentName(s.sessionID, n, c.name))
}

// highestSegment is the highest segment number of a category, or 0.
func (s *sink) highestSegment(category string) int {
	names, err := s.ld.names()
	if err != nil {
		return 0 // the link fails if the name is taken anyway
	}
	highest := 0
	for _, name := range names {
		for _, r := range parseFileName(name) {
			if r.session == s.sessionID && r.category == category {
				highest = max(highest, r.segment)
			}
		}
	}
	return highest
}
