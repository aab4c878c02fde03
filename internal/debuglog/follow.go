package debuglog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// follower watches directories of debug files (both systems') and hands
// over each complete line written to them after it started, as tail -F
// does, but losing nothing to rotation:
//
//   - new files (a new category, a new session, the live file a rotation
//     opens) are read from their start;
//   - files are known by identity (device and inode), not by name: a file
//     renamed away (logrotate's move and create, the library's own
//     rotation) or deleted is read on through the descriptor already open
//     until it has not grown for rotatedIdlePolls polls, so the lines a
//     writer adds before it reopens are read too, once;
//   - a file cut shorter, or rewritten in place past where it was read (a
//     copytruncate whose file regrew within a poll: its size alone cannot
//     tell), is read again from its start: the bytes of the last line read
//     are checked on every poll that finds the file changed;
//   - a line still being written is held until its newline arrives;
//   - "gone" (no such file) is told from "cannot open or list now" (out of
//     descriptors, no permission for a moment): a file that cannot be
//     opened now, or a directory that cannot be listed now, keeps its place
//     and is tried again at the next poll, so nothing is read twice.
type follower struct {
	dirs    []followDir
	warn    *warner
	files   map[fileID]*followed
	primed  bool
	refused map[string]string // paths not followed, with why: each said once (again if the reason changes)
	trouble map[string]string // paths that could not be listed or opened now, with why: said once a spell

	// What ship sets (timeline --follow leaves them zero):
	// resume, when set, places a file met for the first time: every file
	// is then read from where it says (its start when it knows nothing of
	// it), not from its end; budget bounds the bytes read by one poll
	// (more says the last poll stopped at it); lines, when set, is handed
	// every complete line (without its newline) in place of poll's events,
	// and says whether it wants more in this poll.
	resume func(t *followed)
	budget int64
	more   bool
	lines  func(t *followed, start int64, line []byte) bool
}

type followDir struct {
	path, system string
}

// fileID identifies a file: its device and inode numbers, or on Windows
// its volume serial number and file index (see identify).
type fileID struct{ dev, ino uint64 }

// rotatedIdlePolls is how many polls a file no longer listed under its
// name (renamed away, deleted) is read on after it last grew: 5 s at the
// default --interval, time for its writer to reopen.
const rotatedIdlePolls = 20

// fingerprintLen is how many bytes of the last line read are checked to
// tell a file rewritten in place: its start holds the line's time.
const fingerprintLen = 128

type followed struct {
	id      fileID
	f       file
	dir     int
	info    os.FileInfo // as listed, to check what is opened is the file listed
	fh      *os.File    // nil: known, not open yet (it could not be opened: tried again each poll)
	offset  int64
	partial []byte
	tooLong bool // the line being read is longer than maxLine: partial is not kept
	lineNo  int  // lines before offset; -1: not counted yet
	listed  bool // listed under its name in this poll
	idle    int  // polls without growth since it was last listed
	// lineStart is where the line being read began; last is the first
	// bytes of the last complete line read, which began at lastStart.
	lineStart, lastStart int64
	last                 []byte
	// gen counts the times the file was found truncated or rewritten and
	// read again from its start (ship keys its lines by it).
	gen uint32
	// verify: check at the next read that the last line read is still
	// there, even when the size says nothing changed (a resumed file).
	verify bool
}

func newFollower(dirs []followDir, warn *warner) *follower {
	return &follower{dirs: dirs, warn: warn, files: map[fileID]*followed{}, refused: map[string]string{}, trouble: map[string]string{}}
}

// poll reads what was written since the last poll and returns its events,
// in time order. The first poll only notes where the files end.
func (fw *follower) poll(ctx context.Context) []*Event {
	for _, t := range fw.files {
		t.listed = false
	}
	for di, d := range fw.dirs {
		entries, err := os.ReadDir(d.path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Cannot list it now (out of descriptors, say): its files are
			// kept as they are, not taken for gone.
			fw.troubled(d.path, "cannot list the directory now (%v); its files are kept and it is listed again at the next poll", unwrapPath(err))
			for _, t := range fw.files {
				if t.dir == di {
					t.listed = true
				}
			}
			continue
		}
		fw.untroubled(d.path)
		for _, e := range entries { // none when the directory is gone (a cleanup): it may come back
			if !strings.HasSuffix(e.Name(), ".jsonl") {
				continue
			}
			fw.list(di, filepath.Join(d.path, e.Name()))
		}
	}
	for id, t := range fw.files {
		if t.fh == nil {
			fw.open(ctx, id, t)
		}
	}
	fw.primed = true
	fw.more = false
	var events []*Event
	left := fw.budget
	for id, t := range fw.files {
		if t.fh == nil {
			continue
		}
		before := t.offset
		if (fw.budget > 0 && left <= 0) || (fw.lines != nil && fw.more) {
			fw.more = true
			t.idle = 0
			continue
		}
		var more bool
		events, more = t.read(fw.warn, events, left, fw.lines)
		fw.more = fw.more || more
		if fw.budget > 0 {
			left -= t.offset - before
		}
		switch {
		case t.listed || t.offset != before:
			t.idle = 0
		default: // renamed away or deleted, and read to its end: kept a while for a writer that has not reopened
			t.idle++
			if t.idle >= rotatedIdlePolls {
				t.fh.Close()
				delete(fw.files, id)
			}
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	return events
}

// list notes a file listed in directory di.
func (fw *follower) list(di int, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) { // cannot look at it now: a file known by this name stays
			fw.keepByName(path)
		}
		return // gone since the listing, or a dangling link: it may come (back)
	}
	if !fi.Mode().IsRegular() {
		fw.refuse(path, errNotRegular{fi.Mode()})
		return
	}
	id, ok := identify(path, fi)
	if !ok {
		fw.keepByName(path)
		return
	}
	if t := fw.files[id]; t != nil {
		t.listed = true
		return
	}
	t := &followed{id: id, f: file{path: path}, dir: di, info: fi, listed: true}
	switch {
	case fw.resume != nil:
		fw.resume(t)
	case !fw.primed: // there before: from its end (its lines counted once it is open, for file:line)
		t.offset, t.lineNo = fi.Size(), -1
	}
	fw.files[id] = t
}

// keepByName keeps the file known by path listed.
func (fw *follower) keepByName(path string) {
	for _, t := range fw.files {
		if t.f.path == path {
			t.listed = true
		}
	}
}

// open opens a file listed but not open yet: when it cannot be opened now
// it is tried again at the next poll; when it is gone, or not a file to
// follow, it is dropped.
func (fw *follower) open(ctx context.Context, id fileID, t *followed) {
	path := t.f.path
	fh, err := openRegular(path)
	var nr errNotRegular
	var sf errSpecialFS
	switch {
	case err == nil:
	case errors.As(err, &nr) || errors.As(err, &sf):
		fw.refuse(path, err)
		delete(fw.files, id)
		return
	case errors.Is(err, fs.ErrNotExist):
		delete(fw.files, id)
		return
	default:
		fw.troubled(path, "cannot open it now (%v); tried again at the next poll", err)
		return
	}
	if fi, err := fh.Stat(); err != nil || !os.SameFile(fi, t.info) { // replaced since the listing: the next poll lists the new one
		fh.Close()
		delete(fw.files, id)
		return
	}
	fw.untroubled(path)
	delete(fw.refused, path)
	t.fh = fh
	t.f = describeFile(ctx, path, fw.dirs[t.dir].system)
	if t.lineNo < 0 {
		t.lineNo = linesIn(fh, t.offset)
		t.lastStart = lastLineStart(fh, t.offset)
		t.last = readSome(fh, t.lastStart, t.offset)
		t.lineStart = t.offset
	}
}

// refuse says once that a file is not followed, and why.
func (fw *follower) refuse(path string, err error) {
	if fw.refused[path] == err.Error() {
		return
	}
	fw.refused[path] = err.Error()
	fw.warn.skip(path, "%v; not followed", err)
}

// troubled says once a spell that a path cannot be listed or opened now.
func (fw *follower) troubled(path, format string, args ...any) {
	if _, ok := fw.trouble[path]; ok {
		return
	}
	fw.trouble[path] = format
	fw.warn.about(path, format, args...)
}

func (fw *follower) untroubled(path string) { delete(fw.trouble, path) }

// read appends to events the complete lines written past the offset (or
// hands them to lines, when set, until it wants no more), reading at most
// limit bytes when limit is positive; more says that the file holds more
// past where it stopped.
func (t *followed) read(warn *warner, events []*Event, limit int64, lines func(*followed, int64, []byte) bool) (_ []*Event, more bool) {
	fi, err := t.fh.Stat()
	if err != nil || (fi.Size() == t.offset && !t.verify) {
		return events, false
	}
	if fi.Size() < t.offset || !t.unchanged() { // cut shorter, or rewritten in place: start again
		warn.note(t.f.path, t.lineNo, "the file was truncated (copytruncate?) or rewritten; reading it again from its start")
		t.offset, t.partial, t.tooLong, t.lineNo, t.lineStart, t.lastStart, t.last = 0, nil, false, 0, 0, 0, nil
		t.gen++
	}
	t.verify = false
	if fi.Size() == t.offset {
		return events, false
	}
	n := fi.Size() - t.offset
	if limit > 0 && n > limit {
		n, more = limit, true
	}
	r := bufio.NewReaderSize(io.NewSectionReader(t.fh, t.offset, n), 64<<10)
	for {
		chunk, err := r.ReadSlice('\n')
		t.offset += int64(len(chunk))
		switch {
		case t.tooLong: // its rest is not kept either
		case len(t.partial)+len(chunk) <= maxLine+1:
			t.partial = append(t.partial, chunk...)
		default: // too long: remembered as such
			t.partial, t.tooLong = nil, true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil { // EOF: a line still being written is kept for later
			return events, more
		}
		t.lineNo++
		line := t.partial
		t.partial = nil
		start := t.lineStart
		t.lastStart, t.lineStart = t.lineStart, t.offset
		if t.tooLong {
			t.tooLong = false
			t.last = readSome(t.fh, t.lastStart, t.offset)
			warn.line(t.f.path, t.lineNo, "line longer than %d bytes; skipped", maxLine)
			continue
		}
		t.last = append(t.last[:0], line[:min(len(line), fingerprintLen)]...)
		line = line[:len(line)-1]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if lines != nil {
			if !lines(t, start, line) { // enough for this poll: the rest is read at the next
				t.partial = nil
				return events, true
			}
			continue
		}
		ev, perr := parseLine(t.f, line, t.lineNo)
		if perr != nil {
			warn.line(t.f.path, t.lineNo, "%v; skipped", perr)
			continue
		}
		ev.Offset = start
		noteRepeated(warn, ev)
		events = append(events, ev)
	}
}

// unchanged says whether the last line read is still where it was read:
// a file truncated and written again past the offset has other bytes there.
func (t *followed) unchanged() bool {
	if len(t.last) == 0 {
		return true
	}
	return bytes.Equal(readSome(t.fh, t.lastStart, t.lastStart+int64(len(t.last))), t.last)
}

// readSome returns the bytes of f from from to to, at most fingerprintLen.
func readSome(f *os.File, from, to int64) []byte {
	buf := make([]byte, min(to-from, fingerprintLen))
	n, _ := f.ReadAt(buf, from)
	return buf[:n]
}

// lastLineStart returns where the last line before end begins (looking
// back at most 64 KiB).
func lastLineStart(f *os.File, end int64) int64 {
	if end <= 1 {
		return 0
	}
	from := max(end-64<<10, 0)
	buf := make([]byte, end-1-from) // the byte at end-1 is the last line's newline
	n, _ := f.ReadAt(buf, from)
	if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
		return from + int64(i) + 1
	}
	return from
}

// close closes every followed file.
func (fw *follower) close() {
	for id, t := range fw.files {
		if t.fh != nil {
			t.fh.Close()
		}
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
	if f.system == "" || f.session == "" { // the first line says
		m := firstLine(ctx, path)
		if f.system == "" {
			f.system = systemOf(m)
		}
		if s, ok := m["session_id"].(string); ok && f.session == "" {
			f.session = s
		}
	}
	return f
}

// follow prints the events written to dirs from now on until ctx ends,
// polling every interval; tick, when set, replaces the interval's timer
// (tests drive the polls with it).
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
			for _, ev := range fw.poll(context.Background()) { // what was written before the stop
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
