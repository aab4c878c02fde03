package handler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrClosed is returned by Handle after Close; the record is counted as
// dropped.
var ErrClosed = errors.New("handler: closed")

// shrinkAbove is the capacity above which a mostly idle category buffer is
// let go after a write, so that one burst does not pin memory for good.
const shrinkAbove = 1 << 20

// sink is what every Handler derived from one New shares: the category
// registry, the bounded queue and the writer goroutine.
//
// The queue is a pair of byte buffers per category. Callers append encoded
// lines to a category's pending buffer under mu; the writer swaps every
// dirty pending buffer with its own batch buffer under mu, then writes each
// batch with one write call, outside the lock.
type sink struct {
	opts      Options
	dir       string
	sessionID string
	start     time.Time
	header    []byte // `{"session_id":"<id>"`
	reg       *registry
	session   *category
	defCat    *category
	wakeBytes int

	mu           sync.Mutex
	space        sync.Cond // signalled when the writer empties the queue
	dirty        []*category
	pendingBytes int
	woken        bool
	closed       bool

	wake     chan struct{}
	flushReq chan chan error
	quit     chan struct{}
	done     chan struct{}

	closeOnce sync.Once
	closeErr  error

	// Owned by the writer goroutine.
	spare       []*category
	writeErrors atomic.Uint64
	lastErr     lastError
}

// enqueue appends one encoded line to cat's pending buffer, or drops it.
func (s *sink) enqueue(cat *category, line []byte) error {
	dest := cat.dest
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			dest.dropped.Add(1)
			return ErrClosed
		}
		if s.pendingBytes+len(line) <= s.opts.QueueBytes {
			break
		}
		if !s.opts.BlockWhenFull {
			s.wakeLocked()
			s.mu.Unlock()
			dest.dropped.Add(1)
			return nil
		}
		s.wakeLocked()
		s.space.Wait()
	}
	if !dest.dirty {
		dest.dirty = true
		s.dirty = append(s.dirty, dest)
	}
	dest.pending = append(dest.pending, line...)
	dest.pendingN++
	s.pendingBytes += len(line)
	if s.pendingBytes >= s.wakeBytes {
		s.wakeLocked()
	}
	s.mu.Unlock()
	return nil
}

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

// run is the writer goroutine.
func (s *sink) run() {
	defer close(s.done)
	ticker := time.NewTicker(s.opts.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.wake:
			s.write()
		case <-ticker.C:
			s.write()
		case reply := <-s.flushReq:
			reply <- s.write()
		case <-s.quit:
			err := s.write()
			err = errors.Join(err, s.writeSessionEnd(), s.closeFiles())
			s.closeErr = err
			return
		}
	}
}

// write takes everything queued and writes it to the files. It returns the
// errors of this write, if any.
func (s *sink) write() error {
	s.mu.Lock()
	cats := s.dirty
	s.dirty = s.spare[:0]
	for _, c := range cats {
		c.pending, c.batch = c.batch[:0], c.pending
		c.batchN, c.pendingN = c.pendingN, 0
		c.dirty = false
	}
	s.pendingBytes = 0
	s.woken = false
	s.space.Broadcast()
	s.mu.Unlock()

	var errs []error
	for _, c := range cats {
		if err := s.writeBatch(c); err != nil {
			errs = append(errs, err)
		}
		if cap(c.batch) > shrinkAbove && len(c.batch) < cap(c.batch)/4 {
			c.batch = nil
		} else {
			c.batch = c.batch[:0]
		}
	}
	clear(cats)
	s.spare = cats
	return errors.Join(errs...)
}

// writeBatch appends c's batch to its file with one write. A write that
// fails part way is cut back, so a file never holds a partial line; the
// batch's records are then counted as failed.
func (s *sink) writeBatch(c *category) error {
	if len(c.batch) == 0 {
		return nil
	}
	err := s.appendToFile(c, c.batch)
	if err != nil {
		c.failed.Add(c.batchN)
		s.writeErrors.Add(1)
		s.lastErr.set(err)
		return err
	}
	c.written.Add(c.batchN)
	c.bytes.Add(uint64(len(c.batch)))
	return nil
}

// appendToFile writes whole lines to c's file, opening it on first use.
func (s *sink) appendToFile(c *category, p []byte) error {
	if c.file == nil {
		f, err := s.openFile(c.name, 0)
		if err != nil {
			return err
		}
		c.file = f
	}
	n, err := c.file.f.Write(p)
	if err != nil {
		if n > 0 {
			// Cut the partial batch back off; the file keeps whole lines.
			if terr := c.file.f.Truncate(c.file.size); terr != nil {
				err = errors.Join(err, terr)
			}
		}
		return fmt.Errorf("handler: write %s: %w", c.file.path, err)
	}
	c.file.size += int64(n)
	return nil
}

// fileState is an open category file.
type fileState struct {
	f    *os.File
	path string
	size int64
}

// openFile opens (creating) the file of a category for appending. It never
// follows a symbolic link planted at the path. With extraFlags
// os.O_EXCL it fails if the file exists.
func (s *sink) openFile(name string, extraFlags int) (*fileState, error) {
	path := filepath.Join(s.dir, s.sessionID+"_"+name+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|extraFlags, s.opts.FileMode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			err = fmt.Errorf("%w (a symbolic link is at the log file's path; remove it)", err)
		}
		return nil, fmt.Errorf("handler: open log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("handler: open log file: %w", err)
	}
	return &fileState{f: f, path: path, size: fi.Size()}, nil
}

// closeFiles closes every open file.
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
	return errors.Join(errs...)
}

// flush waits until everything enqueued before it was called is written.
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
// closes the files and stops the writer. It is idempotent.
func (s *sink) close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.space.Broadcast()
		s.mu.Unlock()
		close(s.quit)
		<-s.done
	})
	return s.closeErr
}
