package handler

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/internal/safego"
)

// ErrClosed is returned by Handle after Close; the record counts as dropped.
var ErrClosed = errors.New("handler: closed")

// keepBatch is the largest batch buffer kept between rounds: regrowing it
// every round cost a flat-out caller 5% CPU.
const keepBatch = 4 << 20

// fullPatience is how long a caller waits on a full queue before dropping;
// past it the disk counts as stuck until a round ends.
const fullPatience = 100 * time.Millisecond

// sink is shared by every Handler from one New: per-category line buffers
// under mu, written by whoever holds writeMu outside mu.
type sink struct {
	opts      Options
	askedDir  string  // Options.Dir, absolute
	ld        *logDir // the log directory, held open
	sessionID string
	start     time.Time
	resumed   bool   // Options.Resume was set
	earlier   Stats  // the counts of the session's handlers before this one
	header    []byte // `{"session_id":"<id>"`
	reg       *registry
	session   *category
	defCat    *category
	// wakeBytes is the queue size at which a caller wakes the writer
	// (a wake costs a system call).
	wakeBytes int
	// warnReserve is the room Warn and above have past QueueBytes: a
	// quarter of it, and at least four lines of the longest.
	warnReserve int
	tsCache     atomic.Pointer[timestampCache]
	red         *redact.Redactor

	_                 [cacheLinePad]byte
	mu                sync.Mutex
	queued            []*category // the categories with lines pending
	pendingBytes      int
	woken             bool
	closed            bool
	roundDone         chan struct{} // closed and replaced whenever writeMu is let go
	stuck             atomic.Bool   // a caller waited fullPatience in vain; cleared by a round's end
	droppedSinceWrite atomic.Bool   // cleared when Options.OnDrop is called
	_                 [cacheLinePad]byte

	// writeMu guards the files and everything below it.
	writeMu      sync.Mutex
	taken        []*category // the categories of the round being written
	filesClosed  bool
	lastMaintain time.Time

	wake, quit, done chan struct{}

	closeOnce sync.Once
	closeErr  error
	endEvent  string                   // the session file's last line: session_end, or debug_disabled
	keepLock  bool                     // CloseWith: keep the session file's lock and the directory (held)
	held      atomic.Pointer[pausedAt] // what CloseWith kept for the Handler that resumes the session
	rep       reporter                 // the reports to Options.OnError (report.go)

	// Read by Stats at any time.
	writeErrors atomic.Uint64
	panics      atomic.Uint64         // panics recovered
	lastErr     atomic.Pointer[error] // the most recent write error or recovered panic
	deleted     atomic.Uint64         // files deleted for the disk budget
	recreated   atomic.Uint64         // files reopened after being deleted underneath
	repaired    int                   // partial last lines cut at start-up
}

// enqueue queues line, waiting for room (makeRoom), or drops it. Warn and
// above get more room (warnReserve), so an overload does not hide its report.
func (s *sink) enqueue(c *category, level slog.Level, line []byte) error {
	limit := s.opts.QueueBytes
	if level >= slog.LevelWarn {
		limit += s.warnReserve
	}
	s.mu.Lock()
	for !s.closed && s.pendingBytes+len(line) > limit && s.pendingBytes > 0 {
		if !s.makeRoom() {
			s.mu.Unlock()
			c.dropped.Add(1)
			if !s.droppedSinceWrite.Load() {
				s.droppedSinceWrite.Store(true)
			}
			return nil
		}
	}
	if s.closed {
		s.mu.Unlock()
		c.dropped.Add(1)
		return ErrClosed
	}
	if len(c.pending) == 0 {
		s.queued = append(s.queued, c)
	}
	c.pending = append(c.pending, line...)
	c.pendingN++
	s.pendingBytes += len(line)
	if s.pendingBytes >= s.wakeBytes {
		s.wakeLocked()
	}
	s.mu.Unlock()
	return nil
}

// makeRoom waits, s.mu held, for the round being written, at most
// fullPatience: waiting hands the writer a processor callers keep busy,
// and a caller never writes itself, so a hung disk drops, not hangs.
func (s *sink) makeRoom() bool {
	if s.stuck.Load() && !s.opts.BlockWhenFull {
		return false
	}
	done := s.roundDone
	s.wakeLocked()
	s.mu.Unlock()
	if s.opts.BlockWhenFull {
		<-done
	} else {
		t := time.NewTimer(fullPatience)
		select {
		case <-done:
			t.Stop()
		case <-t.C:
			s.stuck.Store(true)
			s.mu.Lock()
			return false
		}
	}
	s.mu.Lock()
	return true
}

// wakeLocked wakes the writer, once per write.
func (s *sink) wakeLocked() {
	if !s.woken {
		s.woken = true
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// releaseWrite unlocks writeMu and wakes callers waiting for room.
func (s *sink) releaseWrite() {
	s.mu.Lock()
	close(s.roundDone)
	s.roundDone = make(chan struct{})
	s.stuck.Store(false)
	s.mu.Unlock()
	s.writeMu.Unlock()
}

// run is the writer goroutine; every step runs under a recover.
func (s *sink) run() {
	defer close(s.done)
	ticker := time.NewTicker(s.opts.FlushInterval)
	defer ticker.Stop()
	for {
		tick := false
		select {
		case <-s.wake:
		case <-ticker.C:
			tick = true
		case <-s.quit:
			s.writeMu.Lock()
			s.guard("checking the log files", s.checkFilesStep)
			s.closeErr = errors.Join(s.writeLocked(),
				s.guard("writing "+s.endEvent, s.writeSessionEnd),
				s.guard("closing the log files", s.closeFiles))
			s.filesClosed = true
			s.releaseWrite()
			return
		}
		s.writeMu.Lock()
		s.writeLocked()
		if tick {
			s.guard("checking the log files", s.checkFilesStep)
			s.guard("keeping the disk budget", s.maintainStep)
		}
		s.releaseWrite()
	}
}

func (s *sink) checkFilesStep() error { s.checkFiles(); return nil }
func (s *sink) maintainStep() error   { s.maintain(false); return nil }

// writeLocked writes the queue; the caller holds writeMu.
func (s *sink) writeLocked() error {
	err := s.guard("writing the queue", s.write)
	if hk := s.opts.hooks; hk != nil && hk.afterWrite != nil {
		hk.afterWrite()
	}
	return err
}

func (s *sink) write() error {
	s.mu.Lock()
	s.taken, s.queued = s.queued, s.taken[:0]
	for _, c := range s.taken {
		c.batch, c.pending = c.pending, c.batch[:0]
		c.batchN, c.pendingN = c.pendingN, 0
	}
	s.pendingBytes, s.woken = 0, false
	s.mu.Unlock()
	var errs []error
	if s.opts.OnDrop != nil && s.droppedSinceWrite.Load() && s.droppedSinceWrite.Swap(false) {
		// The queue has room again: a good time to report.
		errs = append(errs, s.guard("calling Options.OnDrop", func() error { s.opts.OnDrop(); return nil }))
	}
	for _, c := range s.taken {
		if err := s.writeBatch(c); err != nil {
			errs = append(errs, err)
		}
		if cap(c.batch) > min(keepBatch, s.opts.QueueBytes) {
			c.batch = nil
		}
	}
	clear(s.taken)
	return errors.Join(errs...)
}

// writeBatch appends c's batch to its file; a failed write is cut back to
// whole lines, the rest counted as failed.
func (s *sink) writeBatch(c *category) error {
	if len(c.batch) == 0 {
		return nil
	}
	batch, n := c.batch, c.batchN
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

// appendToFile writes whole lines to c's file, rotating at MaxFileBytes.
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

type fileState struct {
	f          *os.File
	name, path string // in the log directory; for messages
	size       int64
	id         fileID // to notice the file deleted or replaced underneath
}

// openFile opens a category's live file, never following a symlink; the
// session file is locked to mark the session live.
func (s *sink) openFile(name string, extraFlags int) (*fileState, error) {
	fname := liveName(s.sessionID, name)
	for attempt := 0; ; attempt++ {
		f, st, err := s.ld.openFile(fname, os.O_WRONLY|os.O_APPEND|os.O_CREATE|extraFlags, s.opts.FileMode)
		if err != nil {
			return nil, fmt.Errorf("handler: open log file: %w", err)
		}
		fs := &fileState{f: f, name: fname, path: f.Name(), size: st.size, id: st.id}
		if name != s.session.name {
			// Marks the session live while its session file is gone (live.go);
			// without it the file is only less protected, so it is written anyway.
			_ = lockOwner(f, lockPatience)
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

// pausedAt is what a paused session keeps (CloseWith): its session file,
// open and locked so it stays live, and the log directory it held open,
// so resuming it writes where it wrote, whatever the path now names.
type pausedAt struct {
	session *fileState
	dir     *logDir
	asked   string // Options.Dir, absolute, as the session was started with
}

func (p *pausedAt) close() {
	if p != nil {
		p.session.f.Close()
		p.dir.close()
	}
}

func (s *sink) closeFiles() error {
	var errs []error
	keep := s.keepLock && s.session.file != nil
	if keep {
		s.held.Store(&pausedAt{session: s.session.file, dir: s.ld, asked: s.askedDir})
		s.session.file = nil
	}
	for _, c := range s.reg.all() {
		if c.file != nil {
			if err := c.file.f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("handler: close %s: %w", c.file.path, err))
			}
			c.file = nil
		}
	}
	if !keep {
		if err := s.ld.close(); err != nil {
			errs = append(errs, fmt.Errorf("handler: close the log directory: %w", err))
		}
	}
	return errors.Join(errs...)
}

// flush writes the queue to files checked to be still there.
func (s *sink) flush() (err error) {
	s.writeMu.Lock()
	if !s.filesClosed {
		s.guard("checking the log files", s.checkFilesStep)
		err = s.writeLocked()
	}
	s.releaseWrite()
	return err
}

// close drains the queue, writes the last line and stops the writer;
// it is idempotent and waits little for a stuck console.
func (s *sink) close(event string, keepLock bool) error {
	s.closeOnce.Do(func() {
		s.endEvent, s.keepLock = event, keepLock
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.quit)
		<-s.done
		s.closeReports()
	})
	return s.closeErr
}

// releaseHeld lets go of what CloseWith kept.
func (s *sink) releaseHeld() { s.held.Swap(nil).close() }
