package handler

import (
	"errors"
	"os"

	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/tracefile"
)

func init() { tracefile.Create = createTraceFile }

// traceFile is an execution trace snapshot being written into a session's
// directory (see package tracefile): a file of the session besides its
// category files, which the disk budget counts and deletes with the
// session's other files.
type traceFile struct {
	*os.File
	dir  *logDir
	name string
}

// createTraceFile is tracefile.Create: it creates the file relative to the
// log directory, opened as the handler opens it.
func createTraceFile(dir, session string, n int, perm os.FileMode) (tracefile.File, error) {
	orDefault(&perm, config.DefaultFileMode)
	name := tracefile.Name(session, n)
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
	return &traceFile{File: f, dir: ld, name: name}, nil
}

// Close makes the snapshot durable (fsync) and closes it.
func (f *traceFile) Close() error {
	return errors.Join(f.File.Sync(), f.File.Close(), f.dir.close())
}

// Discard closes the file and removes it.
func (f *traceFile) Discard() error {
	err := f.File.Close()
	if rerr := f.dir.remove(f.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return errors.Join(err, f.dir.close())
}
