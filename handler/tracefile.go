package handler

import (
	"errors"
	"os"

	"github.com/proxydebug/debugmode/internal/config"
)

// TraceFile is an execution trace snapshot being written into a session's
// directory (see TraceFileName): a file of the session besides its
// category files, which the disk budget counts and deletes with the
// session's other files.
type TraceFile struct {
	*os.File
	dir  *logDir
	name string
}

// CreateTraceFile creates the n-th execution trace snapshot of a session
// in dir (the directory of its files, Handler.Dir), named
// TraceFileName(session, n), with permissions perm (0: 0640).
// As for the category files, the directory is opened following no
// symbolic link and the file is created relative to it: never through a
// link, never over a file that exists (the error says so). Write the
// snapshot, then Close it, or Discard it if writing failed.
func CreateTraceFile(dir, session string, n int, perm os.FileMode) (*TraceFile, error) {
	if perm == 0 {
		perm = config.DefaultFileMode
	}
	name := TraceFileName(session, n)
	if !validSessionID(session) || n < 1 {
		return nil, &os.PathError{Op: "create", Path: name, Err: errors.New("not a session's trace snapshot name")}
	}
	ld, err := openLogDir(dir, config.DefaultDirMode)
	if err != nil {
		return nil, err
	}
	f, _, err := ld.openFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		ld.close()
		return nil, err
	}
	return &TraceFile{File: f, dir: ld, name: name}, nil
}

// Name returns the file's name in its directory (TraceFileName).
func (f *TraceFile) Name() string { return f.name }

// Path returns the file's path.
func (f *TraceFile) Path() string { return f.dir.join(f.name) }

// Close makes the snapshot durable (fsync) and closes it.
func (f *TraceFile) Close() error {
	err := f.File.Sync()
	err = errors.Join(err, f.File.Close())
	return errors.Join(err, f.dir.close())
}

// Discard closes the file and removes it: a snapshot cut short is of no
// use to anyone (go tool trace cannot read it).
func (f *TraceFile) Discard() error {
	err := f.File.Close()
	if rerr := f.dir.remove(f.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return errors.Join(err, f.dir.close())
}

// LastTraceNumber returns the highest n of the session's execution trace
// snapshots already in dir (0 for none, or when dir cannot be read): a
// session resumed, by this process or another (a reused SessionID), goes
// on numbering after them instead of colliding with them.
func LastTraceNumber(dir, session string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	last := 0
	for _, e := range entries {
		for _, f := range parseFileName(e.Name()) {
			if f.trace && f.session == session && f.segment > last {
				last = f.segment
			}
		}
	}
	return last
}
