package handler

import (
	"log/slog"
	"os"
	"time"
)

// testHooks let the package's tests inject faults and panics, hold a write
// and follow the writer's rounds. A nil *testHooks (the only value outside
// tests) changes nothing. The funcs may panic.
type testHooks struct {
	beforeEncode    func(r *slog.Record)                                 // with every record just before it is encoded
	beforeWithAttrs func(attrs []slog.Attr)                              // with the attributes WithAttrs encodes
	writeFile       func(path string, f *os.File, p []byte) (int, error) // replaces a write to a log file; may block or fail
	afterWrite      func()                                               // on the writer goroutine after each write round
	reportGrace     time.Duration                                        // replaces closeReportGrace
}

// writeChunk writes p to the file, through the writeFile hook when set.
func (s *sink) writeChunk(fs *fileState, p []byte) (int, error) {
	if hk := s.opts.hooks; hk != nil && hk.writeFile != nil {
		return hk.writeFile(fs.path, fs.f, p)
	}
	return fs.f.Write(p)
}
