package handler

import "fmt"

// checkFiles reopens files deleted or replaced underneath (a cleanup cron,
// the directory removed): nothing goes on being written to an unlinked
// file. It first makes sure the log directory's path still names the
// directory held (see logDir.verify). It runs every FlushInterval and at
// every Flush, on the writer goroutine.
func (s *sink) checkFiles() {
	if err := s.ld.verify(); err != nil {
		s.noteError(err, 0)
	}
	for _, c := range s.reg.all() {
		if c.file == nil || s.ld.holds(c.file.name, c.file.id) {
			continue
		}
		c.file.f.Close()
		c.file = nil
		f, err := s.openFile(c.name, 0)
		if err != nil {
			s.noteError(fmt.Errorf("handler: reopen a log file deleted underneath: %w", err), 0)
			continue
		}
		c.file = f
		s.recreated.Add(1)
	}
}
