package handler

import (
	"log/slog"
	"os"
	"time"
)

// testHooks let the package's tests reach into the writer: inject faults
// and panics, hold a write, follow the writer's rounds. A nil *testHooks
// (the only value outside tests) changes nothing.
type testHooks struct {
	// beforeEncode is called with every record just before it is encoded,
	// on either path (the writer's or the caller's); it may panic.
	beforeEncode func(r *slog.Record)
	// beforeWithAttrs is called with the attributes WithAttrs encodes; it
	// may panic.
	beforeWithAttrs func(attrs []slog.Attr)
	// writeFile replaces the write of p to a log file at path; it may
	// block, fail or panic.
	writeFile func(path string, f *os.File, p []byte) (int, error)
	// afterWrite is called on the writer goroutine after each write round.
	afterWrite func()
	// reportGrace replaces closeReportGrace.
	reportGrace time.Duration
}

// writeChunk writes p to the file, through the writeFile hook when set.
func (s *sink) writeChunk(fs *fileState, p []byte) (int, error) {
	if hk := s.opts.hooks; hk != nil && hk.writeFile != nil {
		return hk.writeFile(fs.path, fs.f, p)
	}
	return fs.f.Write(p)
}
