package debuglog

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
)

// storeFile is a file as the store holds it: the lines debuglog ship sent
// of one file (one generation of one file identity on one host). The
// commands read it as they read a file, line by line in the file's order,
// with the lines' own numbers and offsets.
type storeFile struct {
	ch       *chClient
	host     string
	dev, ino uint64
	gen      uint32
	timeCond string // " AND ..." on ts_ns (--since, --until), or ""
}

// storeOpts are the flags of a command that reads the store.
type storeOpts struct {
	url, table   *string
	hosts        stringList
	since, until *string
	ownTimes     bool // --since and --until are the store's own flags
}

// storeFlags adds --clickhouse, --table and --host to a command's flags,
// and --since and --until unless the command has them (since, until).
func storeFlags(fs *flag.FlagSet, since, until *string) *storeOpts {
	o := &storeOpts{since: since, until: until}
	o.url = fs.String("clickhouse", "", "read the store debuglog ship fills (ClickHouse's HTTP interface, like http://127.0.0.1:8123/) in place of directories")
	o.table = fs.String("table", chTable, "with --clickhouse: the table, or database.table")
	fs.Var(&o.hosts, "host", "with --clickhouse: only this host's files (repeatable; default: every host)")
	if since == nil {
		o.ownTimes = true
		o.since = fs.String("since", "", "with --clickhouse: only lines at or after this time (RFC 3339)")
		o.until = fs.String("until", "", "with --clickhouse: only lines before this time (RFC 3339)")
	}
	return o
}

// on says whether the command reads the store.
func (o *storeOpts) on() bool { return *o.url != "" }

// check refuses store flags without --clickhouse, and directories with it.
func (o *storeOpts) check(fs *flag.FlagSet, dirs int) error {
	switch {
	case o.on() && dirs > 0:
		return usageError(fs, "give either directories or --clickhouse URL, not both")
	case !o.on() && (len(o.hosts) > 0 || (o.ownTimes && (*o.since != "" || *o.until != ""))):
		return usageError(fs, "--host, --since and --until read the store: they want --clickhouse URL")
	}
	return nil
}

// files lists the files the store holds (of --host, with lines between
// --since and --until), as the commands' files.
func (o *storeOpts) files(ctx context.Context, fs *flag.FlagSet, warn *warner) ([]file, error) {
	ch, err := newCHClient(*o.url, *o.table, 0)
	if err != nil {
		return nil, usageError(fs, "%v", err)
	}
	var cond strings.Builder
	for _, w := range []struct {
		flag, value, op string
	}{{"--since", *o.since, ">="}, {"--until", *o.until, "<"}} {
		if w.value == "" {
			continue
		}
		t, _, err := parseWhen(w.value)
		if err != nil {
			return nil, usageError(fs, "%s %q: %v", w.flag, escapeText(w.value), err)
		}
		if t.IsZero() { // a clock time: the command's own filter takes it (report), or it is refused
			if o.ownTimes {
				return nil, usageError(fs, "%s %q: with --clickhouse, give a whole time (RFC 3339, like 2026-11-26T10:17:16Z), not a clock time", w.flag, escapeText(w.value))
			}
			continue
		}
		fmt.Fprintf(&cond, " AND ts_ns %s %d", w.op, clampNanos(t))
	}
	where := "1" + cond.String()
	if len(o.hosts) > 0 {
		quoted := make([]string, len(o.hosts))
		for i, h := range o.hosts {
			quoted[i] = sqlQuote(h)
		}
		where += " AND host IN (" + strings.Join(quoted, ", ") + ")"
	}
	q := fmt.Sprintf(`SELECT host, file_dev, file_ino, file_gen, any(system), argMin(path, offset), any(session_id) FROM %s
WHERE %s GROUP BY host, file_dev, file_ino, file_gen ORDER BY host, argMin(path, offset), file_gen`, ch.table, where)
	var out []file
	err = ch.rows(ctx, q, 7, func(f [][]byte) error {
		st := &storeFile{ch: ch, host: string(f[0]), dev: uint64(atoi64(f[1])), ino: uint64(atoi64(f[2])), gen: uint32(atoi64(f[3])), timeCond: cond.String()}
		p := string(f[5])
		fl := file{path: st.host + ":" + p, system: string(f[4]), session: string(f[6]), store: st}
		if st.gen > 0 { // the file was truncated and shipped again: each generation is a file of its own
			fl.path += "#" + strconv.FormatUint(uint64(st.gen), 10)
		}
		base := path.Base(strings.ReplaceAll(p, `\`, "/"))
		if m := sessionFile.FindStringSubmatch(base); m != nil {
			fl.session, fl.category = m[1], m[2]
		} else {
			fl.category = strings.TrimSuffix(base, ".jsonl")
		}
		if fl.system != systemOrch {
			fl.system = systemProxy
		}
		out = append(out, fl)
		return nil
	})
	if missingTable(err) {
		return nil, fmt.Errorf("ClickHouse at %s has no table %s: ship the files to it first (debuglog ship --clickhouse URL DIR...), or name the table with --table", ch.shown, ch.table)
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the table %s in ClickHouse at %s holds no lines%s", ch.table, ch.shown, storeScope(o))
	}
	// A name two files had (the live file, before and after a rotation
	// renamed it away) is told apart by the files' inodes.
	named := map[string]int{}
	for _, f := range out {
		named[f.path]++
	}
	for i, f := range out {
		if named[f.path] > 1 {
			out[i].path += "@" + strconv.FormatUint(f.store.ino, 10)
		}
	}
	return out, nil
}

// clampNanos is t in ns since 1970, or the least or greatest int64 when t
// is beyond them (UnixNano's result is then undefined: it wraps).
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// storeScope says which lines were asked for, for a message.
func storeScope(o *storeOpts) string {
	var parts []string
	if len(o.hosts) > 0 {
		parts = append(parts, "of --host "+escapeText(strings.Join(o.hosts, ", ")))
	}
	if *o.since != "" || *o.until != "" {
		parts = append(parts, "between --since and --until")
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// key is the WHERE clause of the file's lines.
func (st *storeFile) key() string {
	return fmt.Sprintf("host = %s AND file_dev = %d AND file_ino = %d AND file_gen = %d", sqlQuote(st.host), st.dev, st.ino, st.gen)
}

// read streams the file's lines from the store to fn, in the file's order
// (FINAL: a line stored twice before a merge is read once), as readFile
// reads a file: the same warnings for lines that are not events.
func (st *storeFile) read(ctx context.Context, f file, warn *warner, fn func(*Event) bool) error {
	q := fmt.Sprintf("SELECT offset, line, raw FROM %s FINAL WHERE %s%s ORDER BY offset", st.ch.table, st.key(), st.timeCond)
	stop := errors.New("stop")
	err := st.ch.rows(ctx, q, 3, func(r [][]byte) error {
		lineNo := int(atoi64(r[1]))
		if len(r[2]) > maxLine {
			warn.line(f.path, lineNo, "line longer than %d bytes; skipped", maxLine)
			return nil
		}
		ev, perr := parseLine(f, r[2], lineNo)
		if perr != nil {
			warn.line(f.path, lineNo, "%v; skipped", perr)
			return nil
		}
		ev.Offset = atoi64(r[0])
		noteRepeated(warn, ev)
		if ev.Fields["truncated"] == true {
			warn.note(f.path, lineNo, `cut by the writer at its line limit ("truncated": true); read as it is`)
		}
		if !fn(ev) {
			return stop
		}
		return nil
	})
	switch {
	case errors.Is(err, stop) || err == nil:
		return nil
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return err
	}
	warn.skip(f.path, "reading it from the store: %v; the rest of it skipped", err)
	return nil
}

// lineAt reads the line of the file that begins at off.
func (st *storeFile) lineAt(f file, off int64, lineNo int) (*Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ev *Event
	q := fmt.Sprintf("SELECT raw FROM %s FINAL WHERE %s AND offset = %d LIMIT 1", st.ch.table, st.key(), off)
	err := st.ch.rows(ctx, q, 1, func(r [][]byte) error {
		var err error
		ev, err = parseLine(f, r[0], lineNo)
		return err
	})
	if err == nil && ev == nil {
		err = errors.New("the line is no longer in the store")
	}
	if err != nil {
		return nil, err
	}
	ev.Offset = off
	return ev, nil
}

// inputs is the command's files: the store's with --clickhouse, else those
// of the directories (see inputs).
func (o *storeOpts) inputs(ctx context.Context, fs *flag.FlagSet, pos []string, proxy, orch stringList, warn *warner) ([]file, error) {
	if err := o.check(fs, len(pos)+len(proxy)+len(orch)); err != nil {
		return nil, err
	}
	if o.on() {
		return o.files(ctx, fs, warn)
	}
	return inputs(ctx, fs, pos, proxy, orch, warn)
}

// systems is the store's files, the proxy's and the orchestrator's; it
// wants both.
func (o *storeOpts) systems(ctx context.Context, fs *flag.FlagSet, warn *warner) (proxy, orch []file, err error) {
	files, err := o.files(ctx, fs, warn)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if f.system == systemOrch {
			orch = append(orch, f)
		} else {
			proxy = append(proxy, f)
		}
	}
	if len(proxy) == 0 || len(orch) == 0 {
		missing := "the proxy's"
		if len(orch) == 0 {
			missing = "the orchestrator's"
		}
		return nil, nil, fmt.Errorf("the store holds none of %s lines%s: ship its directory too (debuglog ship --proxy DIR or --orch DIR)", missing, storeScope(o))
	}
	return proxy, orch, nil
}
