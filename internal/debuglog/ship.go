package debuglog

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

const shipUsage = `usage: debuglog ship --clickhouse URL [--host NAME] [--checkpoint FILE] [--once] DIR...

Ships the proxy's and the orchestrator's debug files in each DIR (or
--proxy DIR, --orch DIR) into one ClickHouse table, created if it is
missing (docs/DEBUG_MODE.md has its schema), over ClickHouse's HTTP
interface. Files are followed as timeline --follow follows them (new files,
rotation, truncation; the files are only read), lines are sent in batches
(--batch lines or --batch-bytes, or what --flush gathered), and each file's
offset is written to the checkpoint only after the server acknowledged the
batch. On restart it goes on from the checkpoint, or from what the store
holds when that is further: every line is stored once, whatever happened to
the shipper. A server that is down or slow is retried with back-off.
--once ships what is there and exits (exit code 1 when the server refuses
the request itself: a user, password or database that is wrong); without it, ship runs until SIGINT or
SIGTERM (exit code 0).

flags:
`

// cmdShip is debuglog ship.
func cmdShip(ctx context.Context, args []string, out io.Writer, warn *warner) error {
	fs := newFlags("ship", shipUsage)
	chURL := fs.String("clickhouse", "", "ClickHouse's HTTP interface, like http://127.0.0.1:8123/ (required)")
	table := fs.String("table", chTable, "the table (created if missing), or database.table")
	host := fs.String("host", "", "the name of this machine in the store (default: its host name)")
	ckPath := fs.String("checkpoint", "", "the checkpoint file (default: debuglog-ship.HOST.json in the current directory)")
	once := fs.Bool("once", false, "ship what is there, then exit")
	batchLines := fs.Int("batch", 10000, "lines a batch holds at most")
	batchBytes := fs.Int("batch-bytes", 8<<20, "bytes a batch holds at most (and what the shipper reads ahead)")
	flush := fs.Duration("flush", time.Second, "how long lines wait for a batch to fill")
	interval := fs.Duration("interval", 250*time.Millisecond, "how often the files are looked at")
	timeout := fs.Duration("timeout", time.Minute, "how long one request to ClickHouse may take")
	progress := fs.Bool("progress", false, "print a line for each batch the server acknowledged")
	var proxyDirs, orchDirs stringList
	dirFlags(fs, &proxyDirs, &orchDirs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *chURL == "":
		return usageError(fs, "ship wants --clickhouse URL")
	case len(pos)+len(proxyDirs)+len(orchDirs) == 0:
		return usageError(fs, "no directories given")
	case *batchLines < 1 || *batchBytes < 1<<10 || *flush <= 0 || *interval <= 0 || *timeout <= 0:
		return usageError(fs, "--batch must be at least 1, --batch-bytes at least 1024, --flush, --interval and --timeout positive")
	}
	ch, err := newCHClient(*chURL, *table, *timeout)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if *host == "" {
		if *host, err = os.Hostname(); err != nil || *host == "" {
			return usageError(fs, "this machine's host name is unknown (%v): name it with --host", err)
		}
	}
	if *ckPath == "" {
		*ckPath = "debuglog-ship." + safeFileName(*host) + ".json"
	}
	var dirs []followDir
	for _, set := range []struct {
		dirs   []string
		system string
	}{{pos, ""}, {proxyDirs, systemProxy}, {orchDirs, systemOrch}} {
		for _, d := range set.dirs {
			fi, err := os.Stat(d)
			if err != nil || !fi.IsDir() {
				return fmt.Errorf("%s: not a directory (%v); ship follows directories of debug files", escapeText(d), unwrapPath(err))
			}
			dirs = append(dirs, followDir{path: d, system: set.system})
		}
	}
	s := newShipper(ch, *host, *ckPath, dirs, warn, out)
	s.acked = shipAckedHook
	s.maxLines, s.maxBytes, s.flush, s.progress = *batchLines, *batchBytes, *flush, *progress
	return s.run(ctx, *once, *interval)
}

// shipAckedHook is the acked hook of the shippers cmdShip makes: nil,
// but in tests (a child process stops there, to be killed where a crash
// costs most).
var shipAckedHook func() error

// safeFileName makes a host name a file name component.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

// shipper follows directories and ships their lines (cmdShip).
type shipper struct {
	ch       *chClient
	host     string
	ckPath   string
	dirs     []followDir
	warn     *warner
	out      io.Writer
	maxLines int
	maxBytes int
	flush    time.Duration
	progress bool
	once     bool // --once: an answer that says the request is wrong ends the run

	// known is how far each file identity was shipped, as acknowledged:
	// the store's and the checkpoint's, then each batch's.
	known map[fileID]shipPos
	fw    *follower
	batch shipBatch
	total int64

	// sleep waits d or until ctx ends (tests replace it: no real back-off).
	sleep func(ctx context.Context, d time.Duration) error
	// acked, when set, runs after the server acknowledged a batch and
	// before the checkpoint is written (tests stop there, as a crash would).
	acked func() error
}

// shipBatch is the lines gathered for one INSERT, encoded.
type shipBatch struct {
	buf   []byte
	rows  []shipRow
	last  map[fileID]shipPos // per file, where it will be once the batch is stored
	first time.Time          // when its first line was added
	// queryID is its INSERTs' query_id, the same for each attempt (the
	// server refuses a second while the first runs), of this host's
	// prefix (insertsEnded).
	queryID string
}

// shipRow is one line of a batch: its file, key and where it is in buf.
type shipRow struct {
	id  fileID
	gen uint32
	off int64
	at  int
}

func newShipper(ch *chClient, host, ckPath string, dirs []followDir, warn *warner, out io.Writer) *shipper {
	return &shipper{ch: ch, host: host, ckPath: ckPath, dirs: dirs, warn: warn, out: out, maxLines: 10000, maxBytes: 8 << 20, flush: time.Second,
		known: map[fileID]shipPos{}, batch: shipBatch{last: map[fileID]shipPos{}}, sleep: sleepCtx}
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxBackoff is the longest wait between two attempts.
const maxBackoff = 30 * time.Second

// run ships until ctx ends (or, with once, until the files are shipped).
func (s *shipper) run(ctx context.Context, once bool, interval time.Duration) error {
	s.once = once
	c, err := loadCheckpoint(s.ckPath)
	if err != nil {
		return err
	}
	if c != nil {
		if c.Host != s.host || c.Table != s.ch.table {
			return fmt.Errorf("checkpoint %s is of host %q and table %q, not of --host %q and --table %q: give this shipper a --checkpoint of its own",
				escapeText(s.ckPath), escapeText(c.Host), escapeText(c.Table), escapeText(s.host), escapeText(s.ch.table))
		}
		s.known = c.entries()
	}
	removeCheckpointTemps(s.ckPath)
	// The table, and how far the store says each file was shipped (it is
	// ahead of the checkpoint when a batch was stored and the shipper
	// stopped before writing it).
	if err := s.retry(ctx, "creating the table", func() error {
		if err := s.ch.createTable(ctx); err != nil {
			return err
		}
		if err := s.ch.checkTable(ctx); err != nil {
			return err
		}
		// A shipper killed during an INSERT may have left it running on the
		// server: asked before it ends, the store would say too little.
		if err := s.insertsEnded(ctx); err != nil {
			return err
		}
		return s.learn(ctx)
	}); err != nil {
		return s.stopped(ctx, err)
	}
	s.fw = newFollower(s.dirs, s.warn)
	s.fw.resume, s.fw.lines = s.resume, s.add
	defer s.fw.close()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		// What the batch has room for, but never so little that a long
		// line is read a few bytes a poll: a batch ends at most 64 KiB
		// (and a line) over --batch-bytes.
		s.fw.budget = max(int64(s.maxBytes-len(s.batch.buf)), 64<<10)
		s.fw.poll(ctx)
		full := len(s.batch.rows) >= s.maxLines || len(s.batch.buf) >= s.maxBytes
		caughtUp := !s.fw.more
		if n := len(s.batch.rows); n > 0 && (full || (caughtUp && (once || time.Since(s.batch.first) >= s.flush))) {
			if err := s.send(ctx); err != nil {
				return s.stopped(ctx, err)
			}
		}
		switch {
		case ctx.Err() != nil:
			return s.stopped(ctx, ctx.Err())
		case once && caughtUp && len(s.batch.rows) == 0:
			return nil
		case !caughtUp || full:
			continue
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// stopped ends a run: when ctx ended (SIGINT, SIGTERM: ship's normal
// end), the lines gathered are offered to the server once more, briefly
// (after asking the store what it holds of them: an attempt cut short may
// have been stored); what is not acknowledged is shipped by the next run.
func (s *shipper) stopped(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if len(s.batch.rows) > 0 {
		last, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.insertsEnded(last)
		if err == nil {
			err = s.learn(last)
		}
		if err == nil {
			s.dropStored()
			if len(s.batch.rows) > 0 {
				err = s.insert(last)
			}
		}
		if err != nil {
			s.warn.general("stopped with %d lines not acknowledged by the server (%v); the next run ships them from the checkpoint", len(s.batch.rows), err)
			return nil
		}
		s.done()
	}
	return nil
}

// retry runs fn until it succeeds or ctx ends, waiting longer after each
// failure (from 250 ms, doubling, up to maxBackoff), saying why.
func (s *shipper) retry(ctx context.Context, what string, fn func() error) error {
	wait := 250 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.refused(err) {
			return err
		}
		s.warn.general("%s: %v; trying again in %s (nothing is lost: the lines stay in the files, the checkpoint where it was)", what, err, wait)
		if err := s.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, maxBackoff)
	}
}

// refused says whether err is not worth trying again: a table that is not
// ship's; with --once, also an answer that says the request is wrong (4xx:
// a user or password, a database that is not there), which a daemon tries
// again (they may be put right while it waits).
func (s *shipper) refused(err error) bool {
	var wt errWrongTable
	var ce *chError
	return errors.As(err, &wt) || (s.once && errors.As(err, &ce) && ce.status >= 400 && ce.status < 500 && !missingTable(err))
}

// resume places a file met for the first time where it was shipped to
// (with the lines of the batch not sent yet), or at its start.
func (s *shipper) resume(t *followed) {
	p, ok := s.known[t.id]
	if q, pending := s.batch.last[t.id]; pending && (!ok || q.after(p)) {
		p, ok = q, true
	}
	if !ok {
		return
	}
	t.gen, t.offset, t.lineNo, t.lineStart, t.lastStart = p.Gen, p.Offset, p.Line, p.Offset, p.LastStart
	t.last = append([]byte(nil), p.Last...)
	t.verify = true // the file there now may be another one (an inode used again)
}

// add encodes a line of a file into the batch, and says whether the batch
// has room for more.
func (s *shipper) add(t *followed, start int64, line []byte) bool {
	b := &s.batch
	if len(b.rows) == 0 {
		b.first = time.Now()
	}
	b.rows = append(b.rows, shipRow{id: t.id, gen: t.gen, off: start, at: len(b.buf)})
	ev, err := parseLine(t.f, line, t.lineNo)
	if err != nil {
		s.warn.note(t.f.path, t.lineNo, "%v; shipped as it is", err)
		ev = &Event{System: t.f.system, Session: t.f.session, Category: t.f.category}
	}
	col := func(v string) {
		b.buf = tsvEscape(b.buf, []byte(v))
		b.buf = append(b.buf, '\t')
	}
	num := func(v uint64) {
		b.buf = strconv.AppendUint(b.buf, v, 10)
		b.buf = append(b.buf, '\t')
	}
	col(s.host)
	col(t.f.system)
	col(t.f.path)
	num(t.id.dev)
	num(t.id.ino)
	num(uint64(t.gen))
	num(uint64(start))
	num(uint64(t.lineNo))
	col(ev.Session)
	var ns int64
	if !ev.Time.IsZero() && ev.Time.Year() > 1970 && ev.Time.Year() < 2262 {
		ns = ev.Time.UnixNano()
	}
	b.buf = strconv.AppendInt(b.buf, ns, 10)
	b.buf = append(b.buf, '\t')
	col(ev.Category)
	col(ev.str("level"))
	col(firstNonEmpty(ev.str("msg"), ev.name())) // the orchestrator's lines have no msg: what they are
	col(ev.str("request_id"))
	col(ev.str("trace_id"))
	col(firstNonEmpty(ev.str("container_id"), ev.str("engine_id")))
	for _, k := range []string{"stream_id", "event_type", "severity"} {
		col(ev.str(k))
	}
	if d, ok := ev.durationMS(); ok {
		b.buf = strconv.AppendFloat(b.buf, d, 'f', -1, 64)
		b.buf = append(b.buf, '\t')
	} else {
		b.buf = append(b.buf, `\N`+"\t"...)
	}
	status, _ := ev.num("status_code")
	if status < 0 || status > 65535 || math.IsNaN(status) {
		status = 0
	}
	num(uint64(status))
	b.buf = tsvEscape(b.buf, line)
	b.buf = append(b.buf, '\n')
	last := b.last[t.id]
	last.Gen, last.Offset, last.Line, last.LastStart, last.Path = t.gen, start+int64(len(line))+1, t.lineNo, start, t.f.path
	last.Last = append(last.Last[:0], line[:min(len(line), fingerprintLen)]...)
	if len(last.Last) < fingerprintLen {
		last.Last = append(last.Last, '\n')
	}
	b.last[t.id] = last
	return len(b.rows) < s.maxLines
}

// insert sends the batch once.
func (s *shipper) insert(ctx context.Context) error {
	if s.batch.queryID == "" {
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
			return err
		}
		s.batch.queryID = s.queryIDPrefix() + hex.EncodeToString(id[:])
	}
	rc, err := s.ch.doID(ctx, "INSERT INTO "+s.ch.table+" ("+chColumns+") FORMAT TabSeparated", bytes.NewReader(s.batch.buf), s.batch.queryID)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// queryIDPrefix begins the query_id of every INSERT of this host's
// shippers (the host hashed: any name makes an ID of hex digits).
func (s *shipper) queryIDPrefix() string {
	h := sha256.Sum256([]byte(s.ch.table + "\x00" + s.host))
	return "debuglog-ship-" + hex.EncodeToString(h[:8]) + "-"
}

// insertsEnded says (nil) that no INSERT of this host's shippers into the
// table runs on the server: neither an attempt of the batch given up on
// (--timeout, a cut connection) nor one of an earlier shipper killed while
// the server read its batch. Only then does the store say all it will
// hold, and may be asked how far it got.
func (s *shipper) insertsEnded(ctx context.Context) error {
	prefix := s.queryIDPrefix()
	running, err := s.ch.running(ctx, fmt.Sprintf("substring(query_id, 1, %d) = %s", len(prefix), sqlQuote(prefix)))
	if err == nil && running {
		err = errors.New("an INSERT of this host's shipper given up on still runs on the server; the store is asked what it holds once it has ended")
	}
	return err
}

// send stores the batch: inserted until the server acknowledges it; before
// each new attempt the store is asked how far each file is stored, and the
// lines it holds already are dropped (an attempt that failed on the way
// back may have been stored).
func (s *shipper) send(ctx context.Context) error {
	first := true
	err := s.retry(ctx, fmt.Sprintf("shipping %d lines to %s", len(s.batch.rows), s.ch.shown), func() error {
		if !first {
			if err := s.insertsEnded(ctx); err != nil {
				return err
			}
			if err := s.learn(ctx); err != nil {
				return err
			}
			s.dropStored()
			if len(s.batch.rows) == 0 {
				return nil
			}
		}
		first = false
		err := s.insert(ctx)
		if missingTable(err) { // dropped while shipping: made again, then the batch
			if cerr := s.ch.createTable(ctx); cerr != nil {
				return cerr
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	if s.acked != nil {
		if err := s.acked(); err != nil {
			return err
		}
	}
	s.done()
	return nil
}

// done moves the positions of a stored batch on, writes the checkpoint
// and empties the batch.
func (s *shipper) done() {
	for id, p := range s.batch.last {
		if q, ok := s.known[id]; !ok || p.after(q) {
			s.known[id] = p
		}
	}
	n := len(s.batch.rows)
	s.total += int64(n)
	if err := s.writeCheckpoint(); err != nil {
		s.warn.general("cannot write the checkpoint %s (%v); shipping goes on, and a restart asks the store how far it got", escapeText(s.ckPath), unwrapPath(err))
	}
	s.batch.buf, s.batch.rows, s.batch.queryID = s.batch.buf[:0], s.batch.rows[:0], ""
	clear(s.batch.last)
	if cap(s.batch.buf) > 2*s.maxBytes+maxLine { // one huge batch: not kept
		s.batch.buf = nil
	}
	if s.progress && n > 0 {
		fmt.Fprintf(s.out, "shipped %d lines (%d in all)\n", n, s.total)
	}
}

// writeCheckpoint writes the positions of the files followed now.
func (s *shipper) writeCheckpoint() error {
	c := &checkpoint{Version: checkpointVersion, Host: s.host, Table: s.ch.table, Files: []checkpointEntry{}}
	for id := range s.fw.files {
		if p, ok := s.known[id]; ok {
			c.Files = append(c.Files, checkpointEntry{Dev: id.dev, Ino: id.ino, shipPos: p})
		}
	}
	return writeCheckpoint(s.ckPath, c)
}

// dropStored drops from the batch the lines the store holds (known).
func (s *shipper) dropStored() {
	b := &s.batch
	var buf []byte
	var rows []shipRow
	for i, r := range b.rows {
		end := len(b.buf)
		if i+1 < len(b.rows) {
			end = b.rows[i+1].at
		}
		if p, ok := s.known[r.id]; ok && !(shipPos{Gen: r.gen, Offset: r.off}).after(shipPos{Gen: p.Gen, Offset: p.LastStart}) {
			continue
		}
		from := r.at
		r.at = len(buf)
		rows = append(rows, r)
		buf = append(buf, b.buf[from:end]...)
	}
	b.buf, b.rows = buf, rows
	for id, p := range b.last {
		if q, ok := s.known[id]; ok && !p.after(q) {
			delete(b.last, id)
		}
	}
}

// learn asks the store how far each of this host's files is stored: the
// last line of each file's last generation (and its first bytes, to tell
// whether the file there now is still that file).
func (s *shipper) learn(ctx context.Context) error {
	h := sqlQuote(s.host)
	q := fmt.Sprintf(`SELECT file_dev, file_ino, file_gen, offset, line, length(raw), substring(raw, 1, %d), path FROM %s
WHERE host = %s AND (file_dev, file_ino, file_gen, offset) IN
  (SELECT file_dev, file_ino, file_gen, max(offset) FROM %s WHERE host = %s GROUP BY file_dev, file_ino, file_gen)`,
		fingerprintLen, s.ch.table, h, s.ch.table, h)
	return s.ch.rows(ctx, q, 8, func(f [][]byte) error {
		id := fileID{uint64(atoi64(f[0])), uint64(atoi64(f[1]))}
		start, n := atoi64(f[3]), atoi64(f[5])
		p := shipPos{Gen: uint32(atoi64(f[2])), Offset: start + n + 1, Line: int(atoi64(f[4])), LastStart: start, Path: string(f[7])}
		p.Last = append([]byte(nil), f[6]...)
		if len(p.Last) < fingerprintLen {
			p.Last = append(p.Last, '\n')
		}
		if q, ok := s.known[id]; !ok || p.after(q) {
			s.known[id] = p
		}
		return nil
	})
}
