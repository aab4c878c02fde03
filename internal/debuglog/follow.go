package debuglog

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// follower watches directories of debug files (both systems') and hands
// over each complete line written to them after it started, as tail -F
// does: new files (a new category, a new session, the live file a rotation
// opens) are read from their start; a file renamed away by rotation is read
// to its end through the descriptor already open, so nothing is lost or
// read twice (files are known by device and inode, not by name); a line
// still being written is held until its newline arrives; a file cut shorter
// is read again from its start.
type follower struct {
	dirs   []followDir
	warn   *warner
	files  map[fileID]*followed
	primed bool
	// refused are the paths not followed, with why: each is said once
	// (again if the reason changes).
	refused map[string]string
}

type followDir struct {
	path, system string
}

// fileID identifies a file: its device and inode numbers, or on Windows
// its volume serial number and file index (see identify).
type fileID struct{ dev, ino uint64 }

type followed struct {
	f       file
	fh      *os.File
	offset  int64
	partial []byte
	lineNo  int
	seen    bool // listed in the last scan
}

func newFollower(dirs []followDir, warn *warner) *follower {
	return &follower{dirs: dirs, warn: warn, files: map[fileID]*followed{}, refused: map[string]string{}}
}

// poll reads what was written since the last poll and returns its events,
// in time order. The first poll only notes where the files end.
func (fw *follower) poll(ctx context.Context) []*Event {
	for _, t := range fw.files {
		t.seen = false
	}
	var events []*Event
	for _, d := range fw.dirs {
		entries, err := os.ReadDir(d.path)
		if err != nil {
			continue // it may come back (a cleanup deleted it)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".jsonl") {
				continue
			}
			path := filepath.Join(d.path, e.Name())
			fi, err := os.Stat(path)
			if err != nil {
				continue // gone since the listing, or a dangling link: it may come (back)
			}
			if !fi.Mode().IsRegular() {
				fw.refuse(path, errNotRegular{fi.Mode()})
				continue
			}
			id, ok := identify(path, fi)
			if !ok {
				continue
			}
			if t := fw.files[id]; t != nil {
				t.seen = true
				continue
			}
			fh, err := openRegular(path)
			if err != nil {
				fw.refuse(path, err)
				continue
			}
			delete(fw.refused, path)
			t := &followed{f: describeFile(ctx, path, d.system), fh: fh, seen: true}
			if !fw.primed { // existing files: from their end (counting their lines, for file:line)
				t.offset = fi.Size()
				t.lineNo = linesIn(fh, t.offset)
			}
			fw.files[id] = t
		}
	}
	fw.primed = true
	for id, t := range fw.files {
		events = append(events, t.read(fw.warn)...)
		if !t.seen { // renamed away or deleted, and now read to its end
			t.fh.Close()
			delete(fw.files, id)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	return events
}

// refuse says once that a file is not followed, and why.
func (fw *follower) refuse(path string, err error) {
	if fw.refused[path] == err.Error() {
		return
	}
	fw.refused[path] = err.Error()
	fw.warn.skip(path, "%v; not followed", err)
}

// read returns the complete lines written past the offset.
func (t *followed) read(warn *warner) []*Event {
	fi, err := t.fh.Stat()
	if err != nil {
		return nil
	}
	if fi.Size() < t.offset { // cut shorter: start again
		warn.note(t.f.path, t.lineNo, "the file was truncated; reading it again from its start")
		t.offset, t.partial, t.lineNo = 0, nil, 0
	}
	if fi.Size() == t.offset {
		return nil
	}
	var events []*Event
	r := bufio.NewReaderSize(io.NewSectionReader(t.fh, t.offset, fi.Size()-t.offset), 64<<10)
	for {
		chunk, err := r.ReadSlice('\n')
		t.offset += int64(len(chunk))
		if len(t.partial)+len(chunk) <= maxLine+1 {
			t.partial = append(t.partial, chunk...)
		} else {
			t.partial = append(t.partial[:0], "\x00"...) // too long: remembered as such
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil { // EOF: a line still being written is kept for later
			return events
		}
		t.lineNo++
		line := t.partial
		t.partial = nil
		if len(line) == 1 && line[0] == 0 {
			warn.line(t.f.path, t.lineNo, "line longer than %d bytes; skipped", maxLine)
			continue
		}
		line = line[:len(line)-1]
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		ev, perr := parseLine(t.f, line, t.lineNo)
		if perr != nil {
			warn.line(t.f.path, t.lineNo, "%v; skipped", perr)
			continue
		}
		noteRepeated(warn, ev)
		events = append(events, ev)
	}
}

// close closes every followed file.
func (fw *follower) close() {
	for id, t := range fw.files {
		t.fh.Close()
		delete(fw.files, id)
	}
}

// describeFile names a file's session, category and system.
func describeFile(ctx context.Context, path, system string) file {
	f := file{path: path, system: system}
	if m := sessionFile.FindStringSubmatch(filepath.Base(path)); m != nil {
		f.session, f.category = m[1], m[2]
	} else {
		f.category = strings.TrimSuffix(filepath.Base(path), ".jsonl")
	}
	if f.system == "" {
		f.system = guessSystem(ctx, path)
	}
	return f
}

// follow prints the events written to dirs from now on until ctx ends,
// polling every interval; tick, when set, replaces the interval's timer
// (tests drive it).
func follow(ctx context.Context, dirs []followDir, warn *warner, interval time.Duration, tick <-chan time.Time, fn func(*Event)) {
	fw := newFollower(dirs, warn)
	defer fw.close()
	fw.poll(ctx)
	if tick == nil {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			for _, ev := range fw.poll(ctx) { // what was written before the stop
				fn(ev)
			}
			for _, t := range fw.files {
				if len(t.partial) > 0 {
					warn.line(t.f.path, t.lineNo+1, "partial last line (still being written when following stopped); not shown")
				}
			}
			return
		case <-tick:
			for _, ev := range fw.poll(ctx) {
				fn(ev)
			}
		}
	}
}

// linesIn counts the newlines in the first n bytes of f.
func linesIn(f *os.File, n int64) int {
	buf := make([]byte, 64<<10)
	lines := 0
	for off := int64(0); off < n; {
		m, err := f.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		lines += bytes.Count(buf[:m], []byte{'\n'})
		off += int64(m)
		if err != nil {
			break
		}
	}
	return lines
}
