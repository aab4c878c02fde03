package handler

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/proxydebug/debugmode/internal/safego"
)

// ErrClosed is returned by Handle after Close; the record is counted as
// dropped.
var ErrClosed = errors.New("handler: closed")

// maxBatch is the size at which the writer writes a category's batch
// without waiting for the end of the round, bounding its buffers.
const maxBatch = 256 << 10

// sink is what every Handler derived from one New shares: the category
// registry, the bounded queue and the writer goroutine.
//
// The queue is a slice of entries appended under mu and swapped out whole
// by the writer, which encodes what is left to encode into per-category
// batches and writes each batch with one write call, outside the lock.
type sink struct {
	opts      Options
	dir       string  // the log directory's path
	ld        *logDir // the log directory, held open
	sessionID string
	start     time.Time
	header    []byte // `{"session_id":"<id>"`
	reg       *registry
	session   *category
	defCat    *category
	// wakeBytes is how much the queue holds when a caller wakes the
	// writer (a quarter of the queue, at most 256 KiB; the flush interval
	// wakes it otherwise). Waking a parked goroutine costs the caller a
	// system call, microseconds on a virtual machine: the fewer, the better,
	// as long as the writer starts long before the queue is full.
	wakeBytes int
	tsCache   atomic.Pointer[timestampCache]
	red       *Redactor

	// The queue, written by every caller: on cache lines of its own.
	_            [cacheLinePad]byte
	mu           sync.Mutex
	space        sync.Cond // signalled when the writer empties the queue
	pending      []entry
	pendingVals  []valuesEntry // the records of Schemas, beside pending
	pendingAttrs []slog.Attr   // their attributes (valuesEntry.attrsAt)
	pendingBytes int
	seq          uint64 // the last entry's number: the two slices' order
	woken        bool
	closed       bool
	// droppedSinceWrite is set when a record is dropped, and cleared by
	// the writer when it reports that to Options.OnDrop.
	droppedSinceWrite atomic.Bool
	// behind is set when a record leaves the queue past its high-water
	// mark (see yieldDivisor), and cleared by the writer when it takes
	// the queue: meanwhile the callers encode their records themselves,
	// taking that work off the writer until it catches up.
	behind atomic.Bool
	_      [cacheLinePad]byte

	wake     chan struct{}
	flushReq chan chan error
	quit     chan struct{}
	done     chan struct{}

	closeOnce sync.Once
	closeErr  error
	endEvent  string // the session file's last line: session_end, or debug_disabled

	// Owned by the writer goroutine.
	keys         keyCache
	spare        []entry
	spareVals    []valuesEntry
	spareAttrs   []slog.Attr
	dirty        []*category
	lastMaintain time.Time

	// rep reports failures to Options.OnError without the writer waiting.
	rep reporter
	// immediate makes Handle encode every record (testHooks.immediate).
	immediate bool

	// Read by Stats at any time.
	writeErrors atomic.Uint64
	panics      atomic.Uint64 // panics recovered
	lastErr     lastError
	deleted     atomic.Uint64 // files deleted for the disk budget
	recreated   atomic.Uint64 // files reopened after being deleted underneath
	repaired    int           // partial last lines cut at start-up
}

// entry is one queued record. Either line holds the line the caller
// encoded, or rec holds a record whose values cannot change after the call
// (strings, numbers, bools, durations, times), which the writer encodes
// with h's attributes and groups.
type entry struct {
	seq  uint64 // its place among the queue's entries of both kinds
	cat  *category
	h    *Handler
	st   Stamp // what the record's context adds
	rec  slog.Record
	line *[]byte // pooled
}

// entrySize is what an entry costs the queue besides its strings.
const entrySize = int(unsafe.Sizeof(entry{}))

// enqueue appends an entry of the given size to the queue, or drops it:
// the line the caller encoded, or else the record r (built in place, so the
// record is copied once).
func (s *sink) enqueue(cat *category, level slog.Level, h *Handler, r *slog.Record, st Stamp, line *[]byte, size int) error {
	if ok, err := s.admit(cat.dest, level, size); !ok {
		if line != nil {
			putBuffer(line)
		}
		return err
	}
	takeAhead(s.pending, len(s.pending))
	s.pending = append(s.pending, entry{})
	ent := &s.pending[len(s.pending)-1]
	s.seq++
	ent.seq, ent.cat, ent.h, ent.st, ent.line = s.seq, cat, h, st, line
	if line == nil {
		if r.NumAttrs() > 5 {
			ent.rec = r.Clone() // clip the attrs beyond the record's inline ones
		} else {
			ent.rec = *r
		}
	}
	s.queued(level, size)
	return nil
}

// admit waits for (BlockWhenFull) or checks the room for an entry of the
// given size at the given level, taking s.mu. When ok, s.mu is held and
// the caller appends the entry and calls queued; otherwise the entry is
// dropped (counted in dest; err is ErrClosed after Close) and s.mu is
// released.
func (s *sink) admit(dest *category, level slog.Level, size int) (ok bool, err error) {
	limit := s.limitFor(level)
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			dest.dropped.Add(1)
			return false, ErrClosed
		}
		if s.pendingBytes+size <= limit {
			return true, nil
		}
		if !s.opts.BlockWhenFull {
			s.wakeLocked()
			s.mu.Unlock()
			dest.dropped.Add(1)
			if !s.droppedSinceWrite.Load() {
				s.droppedSinceWrite.Store(true)
			}
			return false, nil
		}
		s.wakeLocked()
		s.space.Wait()
	}
}

// limitFor is how many bytes the queue holds for records at level.
// Warnings and errors (stress events, the report of records dropped among
// them) have a reserve the debug records cannot fill: an overload does not
// hide its own report.
func (s *sink) limitFor(level slog.Level) int {
	if level >= slog.LevelWarn {
		return s.opts.QueueBytes + s.opts.QueueBytes/warnReserveDivisor
	}
	return s.opts.QueueBytes
}

// queued counts an entry admit let in, wakes the writer when the queue
// holds enough for a write, and releases s.mu.
func (s *sink) queued(level slog.Level, size int) {
	s.pendingBytes += size
	behind := false
	if s.pendingBytes >= s.wakeBytes {
		s.wakeLocked()
		if behind = s.pendingBytes >= s.limitFor(level)/yieldDivisor; behind && !s.behind.Load() {
			s.behind.Store(true)
		}
	}
	s.mu.Unlock()
	if behind {
		// The writer is falling behind: give it this processor for a
		// moment, so that the callers cannot keep it from the CPU until
		// the queue overflows (see yieldDivisor).
		runtime.Gosched()
	}
}

// takeAhead readies the entries a queue slice will hold next, once every
// aheadEntries entries: called under s.mu with the index n of the entry
// about to be appended, it zeroes entries n+aheadEntries up to
// n+2*aheadEntries when they are within the slice's capacity.
//
// The writer read those entries' memory last, a round or more ago, from
// its own core, so a caller storing an entry must first take the memory's
// cache lines back from that core. Each record would wait for that
// transfer where it releases the lock (which waits for its stores), about
// a hundred nanoseconds on a virtual machine, half a record's cost.
// Zeroing the entries ahead takes their lines back all at once, in
// parallel: one wait for aheadEntries records. (It also lets go of what
// the stale entries referenced.) The writer reads entries only below the
// length of the slice it takes, so the ones ahead are the callers'.
func takeAhead[E any](q []E, n int) {
	if n%aheadEntries == 0 && n+2*aheadEntries <= cap(q) {
		clear(q[n+aheadEntries : n+2*aheadEntries])
	}
}

// takeAheadRange is takeAhead for k entries appended at once at n: it
// readies the entries ahead of every multiple of aheadEntries among them.
func takeAheadRange[E any](q []E, n, k int) {
	for m := (n + aheadEntries - 1) / aheadEntries * aheadEntries; m < n+k; m += aheadEntries {
		takeAhead(q, m)
	}
}

// aheadEntries is how many entries takeAhead readies at once.
const aheadEntries = 16

// yieldDivisor sets the queue's high-water mark. A caller whose record
// leaves the queue fuller than 1/yieldDivisor of its bound yields its
// processor once (runtime.Gosched) after queueing it, and until the writer
// takes the queue every caller encodes its record itself (sink.behind).
// Neither waits for room: with nothing else to run a yield goes on at
// once. But the writer, woken long before, is falling behind: when the
// callers keep every core busy it would get only its share of them, and
// when one caller outpaces it on its own core the encoding it does for
// them is what it lacks. Yielding hands it a core, and the callers'
// encoding leaves it only the copying and the writing, until it catches
// up: a burst is slowed a little rather than cut short.
const yieldDivisor = 2

// warnReserveDivisor sets the reserve of the queue for records at Warn and
// above: a quarter of Options.QueueBytes on top of it.
const warnReserveDivisor = 4

// wakeLocked asks the writer for a write now, once per write.
func (s *sink) wakeLocked() {
	if s.woken {
		return
	}
	s.woken = true
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// initWriter sets up what the writer needs besides the queue; New calls
// it before anything can fail.
func (s *sink) initWriter() {
	s.rep.init(s.opts, func(err error) {
		s.panics.Add(1) // of OnError itself: counted, not reported again
		s.lastErr.set(err)
	})
	s.immediate = s.opts.hooks != nil && s.opts.hooks.immediate
}

// run is the writer goroutine. Each step of its work runs under a
// recover (see panic.go): nothing it does can take the process down, and
// it never waits for the console (see reporter).
func (s *sink) run() {
	defer close(s.done)
	ticker := time.NewTicker(s.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.wake:
			s.writeGuarded()
		case <-ticker.C:
			s.writeGuarded()
			s.guard("checking the log files", s.checkFilesStep)
			s.guard("keeping the disk budget", s.maintainStep)
		case reply := <-s.flushReq:
			s.guard("checking the log files", s.checkFilesStep)
			reply <- s.writeGuarded()
		case <-s.quit:
			s.guard("checking the log files", s.checkFilesStep)
			err := s.writeGuarded()
			err = errors.Join(err,
				s.guard("writing "+s.endEvent, s.writeSessionEnd),
				s.guard("closing the log files", s.closeFiles))
			s.closeErr = err
			return
		}
	}
}

func (s *sink) checkFilesStep() error { s.checkFiles(); return nil }
func (s *sink) maintainStep() error   { s.maintain(false); return nil }

// writeGuarded is write under a recover, followed by the afterWrite hook.
func (s *sink) writeGuarded() error {
	err := s.guard("writing the queue", s.write)
	if hk := s.opts.hooks; hk != nil && hk.afterWrite != nil {
		hk.afterWrite()
	}
	return err
}

// write takes everything queued, encodes it into per-category batches and
// writes them to the files. It returns the errors of this write, if any.
//
// While the callers keep the queue filling (it is past wakeBytes again by
// the time a round is encoded), the writer takes the next round before
// writing, up to maxBatch bytes encoded: a busy writer makes fewer and
// larger writes, which cost the kernel far less per line (a write call
// costs microseconds whatever its size). Nothing waits for that: a round
// that finds the queue below wakeBytes writes at once.
func (s *sink) write() error {
	var errs []error
	encoded := 0 // bytes in the batches, not written yet
	for round := 0; ; round++ {
		s.mu.Lock()
		if round > 0 && (s.pendingBytes < s.wakeBytes || encoded >= maxBatch) {
			s.mu.Unlock()
			break
		}
		batch, vals, attrs := s.pending, s.pendingVals, s.pendingAttrs
		s.pending, s.pendingVals, s.pendingAttrs = s.spare[:0], s.spareVals[:0], s.spareAttrs[:0]
		s.pendingBytes = 0
		s.woken = false
		if s.behind.Load() {
			s.behind.Store(false)
		}
		s.space.Broadcast()
		s.mu.Unlock()
		if s.opts.OnDrop != nil && s.droppedSinceWrite.Load() && s.droppedSinceWrite.Swap(false) {
			// The queue has room again: a good time to report.
			if err := s.guard("calling Options.OnDrop", func() error { s.opts.OnDrop(); return nil }); err != nil {
				errs = append(errs, err)
			}
		}
		errs, encoded = s.encodeRound(batch, vals, attrs, errs, encoded)
		// The slices are not cleared: the next round overwrites them, and
		// what they still reference is bounded by the queue size.
		s.spare, s.spareVals, s.spareAttrs = batch[:0], vals[:0], attrs[:0]
	}

	for _, c := range s.dirty {
		if err := s.writeBatch(c); err != nil {
			errs = append(errs, err)
		}
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return errors.Join(errs...)
}

// encodeRound encodes the entries of one round, in the order they were
// queued (batch and vals merged by their numbers; attrs holds the
// attributes of vals), into their categories' batches, writing a batch
// that reaches maxBatch. It returns errs with this round's errors added,
// and encoded with the bytes it added to the batches (less those it
// wrote).
func (s *sink) encodeRound(batch []entry, vals []valuesEntry, attrs []slog.Attr, errs []error, encoded int) ([]error, int) {
	i, j := 0, 0
	for i < len(batch) || j < len(vals) {
		var ent *entry // or else vent
		var vent *valuesEntry
		var c *category
		if j == len(vals) || (i < len(batch) && batch[i].seq < vals[j].seq) {
			ent, c = &batch[i], batch[i].cat.dest
			i++
		} else {
			vent, c = &vals[j], vals[j].cat.dest
			j++
		}
		if len(c.batch) == 0 {
			s.dirty = append(s.dirty, c)
		}
		before := len(c.batch)
		var err error
		switch {
		case vent != nil:
			c.batch, err = vent.h.encodeValuesSafely(c.batch, vent, attrs[vent.attrsAt:vent.attrsAt+vent.attrsN], s.opts.MaxLineBytes, &s.keys)
		case ent.line != nil:
			c.batch = append(c.batch, *ent.line...)
			putBuffer(ent.line)
		default:
			c.batch, err = ent.h.encodeSafely(c.batch, &ent.rec, ent.cat, ent.st, s.opts.MaxLineBytes, &s.keys)
		}
		if err != nil {
			// Counted as failed and reported; the rest of the batch goes on.
			c.failed.Add(1)
			errs = append(errs, err)
			continue
		}
		encoded += len(c.batch) - before
		c.batchN++
		if len(c.batch) >= maxBatch {
			// Write big batches in pieces, so the buffers stay small.
			encoded -= len(c.batch)
			if err := s.writeBatch(c); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs, encoded
}

// writeBatch appends c's batch to its file and empties it. A write that
// fails part way is cut back, so a file never holds a partial line; the
// lines that did not make it are counted as failed.
func (s *sink) writeBatch(c *category) error {
	if len(c.batch) == 0 {
		return nil
	}
	n, size := c.batchN, len(c.batch)
	batch := c.batch[:size]
	c.batch, c.batchN = c.batch[:0], 0
	written, err := s.appendGuarded(c, batch)
	lines := n
	if err != nil {
		lines = uint64(bytes.Count(batch[:written], []byte{'\n'}))
		c.failed.Add(n - lines)
		var p *safego.PanicError
		if errors.As(err, &p) {
			s.notePanic(err, n-lines)
		} else {
			s.noteError(err, n-lines)
		}
	}
	c.written.Add(lines)
	c.bytes.Add(uint64(written))
	return err
}

// appendToFile writes whole lines to c's file, opening it on first use and
// rotating it at Options.MaxFileBytes. It returns how many bytes of p, all
// whole lines, were written.
func (s *sink) appendToFile(c *category, p []byte) (int, error) {
	if c.file == nil {
		f, err := s.openFile(c.name, 0)
		if err != nil {
			return 0, err
		}
		c.file = f
	}
	done := 0
	for done < len(p) {
		chunk := p[done:]
		if limit := s.opts.MaxFileBytes; limit > 0 {
			room := limit - c.file.size
			if room < int64(len(chunk)) {
				// Fill the file with the lines that fit, then rotate.
				cut := bytes.LastIndexByte(chunk[:max(room, 0)], '\n') + 1
				if cut == 0 && c.file.size > 0 {
					if err := s.rotate(c); err != nil {
						return done, err
					}
					continue
				}
				if cut > 0 {
					chunk = chunk[:cut]
				} else {
					// A line longer than the cap goes alone into a fresh file.
					chunk = chunk[:bytes.IndexByte(chunk, '\n')+1]
				}
			}
		}
		n, err := s.writeChunk(c.file, chunk)
		if err != nil {
			if n > 0 {
				// Cut the partial write back off; the file keeps whole lines.
				if terr := c.file.f.Truncate(c.file.size); terr != nil {
					err = errors.Join(err, terr)
				}
			}
			return done, fmt.Errorf("handler: write %s: %w", c.file.path, err)
		}
		c.file.size += int64(n)
		done += n
	}
	return done, nil
}

// fileState is an open category file.
type fileState struct {
	f    *os.File
	name string // in the log directory
	path string // for messages
	size int64
	id   fileID // to notice the file deleted or replaced underneath
}

// openFile opens (creating) the live file of a category for appending,
// relative to the log directory held open. It never follows a symbolic
// link planted at the path. With extraFlags os.O_EXCL it fails if the file
// exists. The session file is locked: the session is live (see lockOwner).
func (s *sink) openFile(name string, extraFlags int) (*fileState, error) {
	fname := liveName(s.sessionID, name)
	for attempt := 0; ; attempt++ {
		f, st, err := s.ld.openFile(fname, os.O_WRONLY|os.O_APPEND|os.O_CREATE|extraFlags, s.opts.FileMode)
		if err != nil {
			return nil, fmt.Errorf("handler: open log file: %w", err)
		}
		fs := &fileState{f: f, name: fname, path: f.Name(), size: st.size, id: st.id}
		if name != s.session.name {
			return fs, nil
		}
		if err := lockOwner(f, lockPatience); err != nil {
			f.Close()
			return nil, err
		}
		if s.ld.holds(fname, fs.id) {
			return fs, nil
		}
		// Deleted or replaced between the open and the lock.
		f.Close()
		if attempt == 2 {
			return nil, fmt.Errorf("handler: open log file %s: it was replaced as it was being locked", fs.path)
		}
	}
}

// closeFiles closes every open file and the log directory.
func (s *sink) closeFiles() error {
	var errs []error
	for _, c := range s.reg.all() {
		if c.file == nil {
			continue
		}
		if err := c.file.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("handler: close %s: %w", c.file.path, err))
		}
		c.file = nil
	}
	if err := s.ld.close(); err != nil {
		errs = append(errs, fmt.Errorf("handler: close the log directory: %w", err))
	}
	return errors.Join(errs...)
}

// flush waits until everything enqueued before it was called is written
// (to files checked to be still there).
func (s *sink) flush() error {
	reply := make(chan error, 1)
	select {
	case s.flushReq <- reply:
		return <-reply
	case <-s.done:
		return nil
	}
}

// close stops accepting records, writes what is queued and session_end,
// closes the files, stops the writer and hands the failures not reported
// yet to Options.OnError. It is idempotent. It never waits long for a stuck
// console (see closeReportGrace).
func (s *sink) close(event string) error {
	s.closeOnce.Do(func() {
		s.endEvent = event
		s.mu.Lock()
		s.closed = true
		s.space.Broadcast()
		s.mu.Unlock()
		close(s.quit)
		<-s.done
		s.rep.close()
	})
	return s.closeErr
}
