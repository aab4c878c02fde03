package handler

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"time"
)

const (
	modulePath       = "github.com/proxydebug/debugmode" // this library's, to find its version
	maxSessionSuffix = 10000                             // bounds the search for a free session ID
)

// claimSession picks the first of base, base_2, base_3, ... that has no
// files in the directory, and claims it by creating its session file
// exclusively and locking it, so two processes starting in the same second
// never share files. With Options.Resume it takes base as it is, and fails
// when another handler holds it.
func (s *sink) claimSession(base string, held *fileState) error {
	taken, excl := map[string]bool{}, os.O_EXCL
	if s.resumed {
		excl = 0
		s.sessionID = base
		if held != nil && s.ld.holds(held.name, held.id) && held.name == liveName(base, s.session.name) {
			s.session.file = held // still ours, still locked
			return nil
		}
		if held != nil {
			held.f.Close() // deleted or replaced while paused: open it again
		}
	} else {
		names, err := s.ld.names()
		if err != nil {
			return fmt.Errorf("handler: look for earlier sessions: %w", err)
		}
		for _, name := range names {
			if live, ok := rotationTempTarget(name); ok {
				name = live
			}
			for _, r := range parseFileName(name) {
				taken[r.session] = true
			}
		}
	}
	for n, id := 1, base; n <= maxSessionSuffix; n, id = n+1, base+"_"+strconv.Itoa(n+1) {
		if taken[id] {
			continue
		}
		s.sessionID = id
		if f, err := s.openFile(s.session.name, excl); !errors.Is(err, os.ErrExist) {
			s.session.file = f
			return err
		}
	}
	return fmt.Errorf("handler: sessions %s to %s_%d already exist in %s: remove old sessions or set another session ID", base, base, maxSessionSuffix, s.ld.path)
}

// writeSessionStart writes the first line of the session file, directly:
// session_start, or debug_enabled when the session is resumed.
func (s *sink) writeSessionStart() error {
	if s.opts.EndOnly {
		return nil
	}
	hostname, _ := os.Hostname()
	event, at := "session_start", s.start // when the session started
	if s.resumed {
		event, at = "debug_enabled", s.opts.now() // in a session that started before
	}
	o := s.opts
	attrs := []slog.Attr{
		slog.Int("pid", os.Getpid()),
		slog.String("hostname", hostname),
		slog.String("version", cmp.Or(o.Version, moduleVersion(""))),
		slog.String("debugmode_version", moduleVersion(modulePath)),
		slog.String("go_version", runtime.Version()),
		slog.String("log_directory", s.ld.path),
		slog.Int("repaired_files", s.repaired),
		slog.Group("options",
			slog.String("level", o.Level.Level().String()),
			slog.String("default_category", o.DefaultCategory),
			slog.Int("queue_bytes", o.QueueBytes),
			slog.Bool("block_when_full", o.BlockWhenFull),
			slog.Duration("flush_interval", o.FlushInterval),
			slog.Int("max_line_bytes", o.MaxLineBytes),
			slog.Int("max_categories", o.MaxCategories),
			slog.Int64("max_file_bytes", o.MaxFileBytes),
			slog.Int64("max_total_bytes", o.MaxTotalBytes),
			slog.Int("max_sessions", o.MaxSessions),
			slog.Bool("sync", o.Sync),
			slog.String("file_mode", o.FileMode.String()),
			slog.String("dir_mode", o.DirMode.String())),
	}
	if len(o.SessionAttrs) > 0 {
		attrs = append(attrs, slog.Attr{Key: "config", Value: slog.GroupValue(o.SessionAttrs...)})
	}
	n, err := s.writeSessionLine(at, event, attrs)
	if err == nil {
		s.session.written.Add(1)
		s.session.bytes.Add(uint64(n))
	}
	return err
}

// writeSessionEnd appends session_end (or CloseWith's event) with the
// session's counts; it runs on the writer goroutine after the last write.
func (s *sink) writeSessionEnd() error {
	st := s.earlier.add(s.stats())
	cats := make([]slog.Attr, 0, len(st.Categories))
	for _, name := range s.categoryOrder(st) {
		cs := st.Categories[name]
		cats = append(cats, slog.Group(name, slog.Uint64("written", cs.Written), slog.Uint64("dropped", cs.Dropped),
			slog.Uint64("failed", cs.Failed), slog.Uint64("bytes", cs.Bytes), slog.Uint64("truncated", cs.Truncated)))
	}
	attrs := []slog.Attr{
		slog.Uint64("records_written", st.Written),
		slog.Uint64("records_dropped", st.Dropped),
		slog.Uint64("records_failed", st.Failed),
		slog.Uint64("bytes_written", st.Bytes),
		slog.Uint64("records_truncated", st.Truncated),
		slog.Uint64("write_errors", st.WriteErrors),
		slog.Uint64("files_deleted", st.FilesDeleted),
		slog.Uint64("files_recreated", st.FilesRecreated),
		slog.Attr{Key: "categories", Value: slog.GroupValue(cats...)},
	}
	if s.opts.EndAttrs != nil {
		// A panic in it is recovered and reported (guard); the line goes without them.
		_ = s.guard("calling Options.EndAttrs", func() error { attrs = append(attrs, s.opts.EndAttrs()...); return nil })
	}
	_, err := s.writeSessionLine(s.opts.now(), s.endEvent, attrs)
	if err != nil {
		s.noteError(err, 1)
	}
	return err
}

// writeSessionLine appends a line of event to the session file, directly,
// and returns its length.
func (s *sink) writeSessionLine(at time.Time, event string, attrs []slog.Attr) (int, error) {
	r := slog.NewRecord(at, slog.LevelInfo, event, 0)
	r.AddAttrs(slog.String("event", event))
	r.AddAttrs(attrs...)
	line := (&Handler{s: s}).encode(nil, &r, s.session, stamp{}, s.opts.MaxLineBytes)
	_, err := s.appendToFile(s.session, line)
	return len(line), err
}

// categoryOrder names the categories of st in the order session_end lists
// them: this handler's as they were first used, then those only earlier
// handlers of the session wrote, by name.
func (s *sink) categoryOrder(st Stats) []string {
	var names, earlier []string
	for _, c := range s.reg.all() {
		names = append(names, c.name)
	}
	for name := range st.Categories {
		if !slices.Contains(names, name) {
			earlier = append(earlier, name)
		}
	}
	slices.Sort(earlier)
	return append(names, earlier...)
}

// moduleVersion is the version of the module path as the host program was
// built with it (the main module's for ""), or "(devel)".
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		mods := append([]*debug.Module{&bi.Main}, bi.Deps...)
		if path == "" {
			mods, path = mods[:1], bi.Main.Path
		}
		for _, m := range mods {
			if m.Path == path && m.Version != "" {
				return m.Version
			}
		}
	}
	return "(devel)"
}
