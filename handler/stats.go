package handler

import "cmp"

// Stats counts what a Handler did with the records it was given. The
// counters only grow; Written+Dropped+Failed is every record handled with a
// category, once Flush or Close has returned.
type Stats struct {
	Written uint64 // lines written to the files
	Dropped uint64 // records dropped because the queue was full or the handler closed
	Failed  uint64 // lines lost because a write failed (disk full, say) or encoding them panicked
	Bytes   uint64 // bytes written
	// Truncated counts the lines cut at MaxLineBytes (written with
	// "truncated": true, and counted in Written or Dropped as well).
	Truncated uint64

	WriteErrors uint64 // failed writes
	// Panics counts the panics the handler recovered from (a bug in it or
	// in a callback of Options): the records they hit are counted in
	// Failed, and the process goes on.
	Panics    uint64
	LastError error // the most recent write error or recovered panic, or nil

	FilesDeleted   uint64 // old files deleted for the disk budget or the sessions kept
	FilesRecreated uint64 // files reopened after being deleted underneath

	// Categories holds the counts of each category file, by sanitized
	// name: its Written, Dropped, Failed, Bytes and Truncated (the other
	// fields are zero).
	Categories map[string]Stats
}

// add returns the sum of two handlers' counts (a session's earlier
// handlers and its current one); LastError is o's, or s's if o has none.
func (s Stats) add(o Stats) Stats {
	sum := Stats{
		Written: s.Written + o.Written, Dropped: s.Dropped + o.Dropped, Failed: s.Failed + o.Failed, Bytes: s.Bytes + o.Bytes,
		Truncated:   s.Truncated + o.Truncated,
		WriteErrors: s.WriteErrors + o.WriteErrors, Panics: s.Panics + o.Panics, LastError: cmp.Or(o.LastError, s.LastError),
		FilesDeleted: s.FilesDeleted + o.FilesDeleted, FilesRecreated: s.FilesRecreated + o.FilesRecreated,
	}
	for _, m := range []map[string]Stats{s.Categories, o.Categories} {
		for name, c := range m {
			if sum.Categories == nil {
				sum.Categories = map[string]Stats{}
			}
			sum.Categories[name] = sum.Categories[name].add(c)
		}
	}
	return sum
}

// Stats returns the session's counts so far: those of the handler it
// resumes (Options.Resume), which count the ones before it, plus this
// handler's.
func (h *Handler) Stats() Stats {
	return h.s.earlier.add(h.s.stats())
}

// stats returns this handler's own counts.
func (s *sink) stats() Stats {
	st := Stats{
		WriteErrors:    s.writeErrors.Load(),
		Panics:         s.panics.Load(),
		FilesDeleted:   s.deleted.Load(),
		FilesRecreated: s.recreated.Load(),
	}
	if p := s.lastErr.Load(); p != nil {
		st.LastError = *p
	}
	cats := make(map[string]Stats)
	for _, c := range s.reg.all() {
		cs := Stats{Written: c.written.Load(), Dropped: c.dropped.Load(), Failed: c.failed.Load(), Bytes: c.bytes.Load(), Truncated: c.cut.Load()}
		cats[c.name] = cs
		st = st.add(cs)
	}
	st.Categories = cats
	return st
}
