package handler

import (
	"errors"
	"fmt"
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

// createTraceFile is tracefile.Create: it creates the snapshot in the log
// directory the handler holds (a copy of its handle, so the handler may
// close meanwhile), opened as the handler opens its files: a symlink
// swapped in for the directory's path leads nowhere else.
func createTraceFile(files any, kind tracefile.Kind, n int, perm os.FileMode) (tracefile.File, error) {
	h, ok := files.(*Handler)
	if !ok || h == nil {
		return nil, fmt.Errorf("handler: a trace snapshot needs the session's *Handler, not %T", files)
	}
	orDefault(&perm, config.DefaultFileMode)
	name := kind.Name(h.s.sessionID, n)
	if n < 1 {
		return nil, &os.PathError{Op: "create", Path: name, Err: errors.New("not a session's trace snapshot name")}
	}
	ld, err := h.s.ld.dup() // never waits for the writer: a write may hang on a stuck disk
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: h.s.ld.join(name), Err: err}
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
