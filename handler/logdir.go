package handler

import (
	"errors"
	"path/filepath"
	"time"
)

// The log directory, logDir, is the one place the handler touches the file
// system by name: it opens, links, renames, removes and looks at the files
// of the directory. On Linux (logdir_linux.go) it holds the directory open
// and works relative to it, following no symbolic link; elsewhere
// (logdir_other.go) it works by path, refusing symbolic links it finds
// before opening. Both give the rest of the handler the same methods, and
// fileInfo in place of the system's stat structure. The build tag
// debugmode_portable builds the portable one on Linux too, to test it
// there (make cross).

// fileInfo is what the handler needs to know of a file of the log
// directory.
type fileInfo struct {
	size    int64
	mtime   time.Time
	regular bool   // a regular file: not a directory, link, FIFO or device
	id      fileID // to notice it deleted or replaced underneath
}

// errNotRegular says why a log file's path was not opened.
var errNotRegular = errors.New("not a regular file (remove it)")

// join is the path of a file of the directory, for messages and Path.
func (d *logDir) join(name string) string {
	return filepath.Join(d.path, name)
}
