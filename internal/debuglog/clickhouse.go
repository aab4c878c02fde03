package debuglog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The store: one ClickHouse table that debuglog ship fills with both
// systems' lines and that summary, correlate, request and report read
// with --clickhouse. It is reached over ClickHouse's HTTP interface with
// net/http alone (no driver), and needs nothing newer than ClickHouse
// 18.16 (Debian bookworm's): no DateTime64, no JSON functions, no query
// parameters (strings are quoted here, sqlQuote).
//
// Exactly once: a line's key is (host, file_dev, file_ino, file_gen,
// offset): the file's identity on its host, how many times that file was
// found truncated and read again, and where the line begins. The table is
// a ReplacingMergeTree ordered by that key, with no partitions, so:
//
//   - an INSERT of one batch (well under max_insert_block_size rows) is
//     one part: all of it is stored, or none;
//   - the shipper checkpoints offsets only after the server acknowledged
//     a batch; before it sends a batch again (after an error, or on
//     restart) it asks the store for the highest offset stored per file
//     and drops the lines already there, so nothing is sent twice blindly;
//   - should a line arrive twice all the same (two shippers on one
//     directory), its two rows have one key and a merge collapses them;
//     the commands that read the store read it FINAL, so they never see
//     the same line twice, merged or not.

// chTable is the default table name.
const chTable = "debuglog"

// chSchema creates the table (%s: its name).
const chSchema = `CREATE TABLE IF NOT EXISTS %s (
    host          String,                 -- the shipper's --host (the machine)
    system        String,                 -- proxy or orchestrator
    path          String,                 -- the file's path when the line was shipped
    file_dev      UInt64,                 -- the file's identity: device (volume) ...
    file_ino      UInt64,                 -- ... and inode (file index)
    file_gen      UInt32,                 -- times the file was truncated and read again
    offset        UInt64,                 -- where the line begins in the file
    line          UInt32,                 -- its line number
    session_id    String,
    ts_ns         Int64,                  -- the line's timestamp, ns since 1970 (0: none)
    timestamp     DateTime DEFAULT toDateTime(intDiv(ts_ns, 1000000000)),
    category      String,
    level         String,
    msg           String,
    request_id    String,
    trace_id      String,
    container_id  String,                 -- container_id, else the proxy's engine_id
    stream_id     String,
    event_type    String,
    severity      String,
    duration_ms   Nullable(Float64),
    status_code   UInt16,
    raw           String,                 -- the whole line, byte for byte
    shipped_at    DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree
ORDER BY (host, file_dev, file_ino, file_gen, offset)`

// chColumns are the columns ship inserts, in the order of its rows.
const chColumns = "host, system, path, file_dev, file_ino, file_gen, offset, line, session_id, ts_ns, category, level, msg, " +
	"request_id, trace_id, container_id, stream_id, event_type, severity, duration_ms, status_code, raw"

// tableName checks a --table value: a name, or database.name.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// chClient talks to one ClickHouse server over its HTTP interface.
type chClient struct {
	base  *url.URL
	shown string // the URL as messages show it (no password)
	table string
	http  *http.Client
}

// newCHClient checks a --clickhouse URL and --table name.
func newCHClient(raw, table string, timeout time.Duration) (*chClient, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--clickhouse %q: want the URL of ClickHouse's HTTP interface, like http://127.0.0.1:8123/ (user and password as http://user:pass@host:8123/, a database as ?database=NAME)", escapeText(raw))
	}
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("--table %q: want a table name (letters, digits, _), or database.name", escapeText(table))
	}
	shown := *u
	if shown.User != nil {
		shown.User = url.User(shown.User.Username())
	}
	// A connection per request: a batch a second, or a query per file, do
	// not need kept-alive connections, and none is left open behind.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	// A connection given up on (--timeout, ctx) is reset, not closed: what
	// a paused server has not read of an INSERT yet is dropped with it, so
	// it cannot store the batch after the shipper asked the store what it
	// holds and sent the batch again.
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		return conn, err
	}
	return &chClient{base: u, shown: shown.String(), table: table, http: &http.Client{Timeout: timeout, Transport: tr}}, nil
}

// chError is an error the server answered with.
type chError struct {
	status int
	text   string
}

func (e *chError) Error() string {
	return fmt.Sprintf("ClickHouse answered %d: %s", e.status, strings.TrimSpace(e.text))
}

// missingTable says whether the server said the table does not exist.
func missingTable(err error) bool {
	var ce *chError
	return errors.As(err, &ce) && strings.Contains(ce.text, "Code: 60,")
}

// do sends one statement: sql in the URL when body is set (an INSERT's
// data), else as the body. The answer's body is returned open on success.
func (c *chClient) do(ctx context.Context, sql string, body io.Reader) (io.ReadCloser, error) {
	return c.doID(ctx, sql, body, "")
}

// doID is do with the statement's query_id (none when "").
func (c *chClient) doID(ctx context.Context, sql string, body io.Reader, queryID string) (io.ReadCloser, error) {
	u := *c.base
	q := u.Query()
	if queryID != "" {
		q.Set("query_id", queryID)
	}
	if body != nil {
		q.Set("query", sql)
	} else {
		body = strings.NewReader(sql)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("ClickHouse at %s did not answer within %s (too slow or unreachable)", c.shown, c.http.Timeout)
		}
		return nil, fmt.Errorf("cannot reach ClickHouse at %s (%v): is the server running, and is this its HTTP interface (port 8123 by default)?", c.shown, unwrapURL(err))
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		return nil, &chError{status: resp.StatusCode, text: string(b)}
	}
	return resp.Body, nil
}

// unwrapURL drops the *url.Error's method and URL (the message names the
// server already).
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// exec runs a statement whose answer is not needed.
func (c *chClient) exec(ctx context.Context, sql string, body io.Reader) error {
	rc, err := c.do(ctx, sql, body)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// running says whether a statement whose query_id meets cond (SQL) still
// runs on the server (an attempt the shipper gave up on, at --timeout or a
// cut connection, may still be storing its batch).
func (c *chClient) running(ctx context.Context, cond string) (bool, error) {
	n := 0
	err := c.rows(ctx, "SELECT count() FROM system.processes WHERE "+cond, 1, func(f [][]byte) error {
		n = int(atoi64(f[0]))
		return nil
	})
	return n > 0, err
}

// createTable creates the table if it is missing.
func (c *chClient) createTable(ctx context.Context) error {
	return c.exec(ctx, fmt.Sprintf(chSchema, c.table), nil)
}

// chSchemaColumn is a column of chSchema: its name and type.
var chSchemaColumn = regexp.MustCompile(`(?m)^    ([a-z_]+) +([A-Za-z0-9()]+)`)

// errWrongTable is a table that is there but is not ship's: trying again
// does not help.
type errWrongTable struct{ error }

// checkTable says whether the table has chSchema's columns, of its types
// (a table of that name made for something else is refused, not retried).
func (c *chClient) checkTable(ctx context.Context) error {
	db, name := "currentDatabase()", sqlQuote(c.table)
	if i := strings.IndexByte(c.table, '.'); i >= 0 {
		db, name = sqlQuote(c.table[:i]), sqlQuote(c.table[i+1:])
	}
	has := map[string]string{}
	err := c.rows(ctx, fmt.Sprintf("SELECT name, type FROM system.columns WHERE database = %s AND table = %s", db, name), 2, func(f [][]byte) error {
		has[string(f[0])] = string(f[1])
		return nil
	})
	if err != nil {
		return err
	}
	if len(has) == 0 { // it was just made: the answer is not ClickHouse's
		return errWrongTable{fmt.Errorf("the server at %s answers as if the table %s had no columns, just after creating it: is this ClickHouse's HTTP interface (port 8123 by default), not a proxy or another server?", c.shown, c.table)}
	}
	var wrong []string
	for _, m := range chSchemaColumn.FindAllStringSubmatch(chSchema, -1) {
		switch got, ok := has[m[1]]; {
		case !ok:
			wrong = append(wrong, "no column "+m[1])
		case got != m[2]:
			wrong = append(wrong, fmt.Sprintf("%s is %s, not %s", m[1], escapeText(got), m[2]))
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	if len(wrong) > 3 {
		wrong = append(wrong[:3], "...")
	}
	return errWrongTable{fmt.Errorf("the table %s in ClickHouse at %s is not the table debuglog ship makes (%s): give ship a --table of its own, or drop that one (docs/DEBUG_MODE.md has the schema)",
		c.table, c.shown, strings.Join(wrong, "; "))}
}

// rows runs a query whose answer is TabSeparated and hands fn each row,
// split into its fields and unescaped. A row of the wrong width (the
// server's error written after rows it had sent) is an error (width < 0:
// any).
func (c *chClient) rows(ctx context.Context, sql string, width int, fn func([][]byte) error) error {
	rc, err := c.do(ctx, sql+" FORMAT TabSeparated", nil)
	if err != nil {
		return err
	}
	defer rc.Close()
	r := bufio.NewReaderSize(rc, 64<<10)
	fields := make([][]byte, 0, max(width, 1))
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) { // a long row: gather it
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(buf) > 2*maxLine {
					return fmt.Errorf("a row of ClickHouse's answer is longer than %d bytes", 2*maxLine)
				}
				line, err = r.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if len(line) > 0 && err == nil {
			fields = fields[:0]
			for _, f := range bytes.Split(line[:len(line)-1], []byte{'\t'}) {
				fields = append(fields, tsvUnescape(f))
			}
			if width >= 0 && len(fields) != width {
				return fmt.Errorf("ClickHouse's answer broke off: %s", escapeText(string(line[:min(len(line), 300)])))
			}
			if err := fn(fields); err != nil {
				return err
			}
		}
		if err == io.EOF {
			if len(line) > 0 {
				return fmt.Errorf("ClickHouse's answer broke off: %s", escapeText(string(line[:min(len(line), 300)])))
			}
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading ClickHouse's answer: %v", err)
		}
	}
}

// sqlQuote quotes a string as a ClickHouse string literal.
func sqlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// tsvEscape appends s to b escaped as a TabSeparated field: every byte
// kept, so a line is stored as it was (invalid UTF-8 included).
func tsvEscape(b []byte, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0:
			b = append(b, '\\', '0')
		default:
			b = append(b, c)
		}
	}
	return b
}

// tsvUnescape undoes the escapes of a TabSeparated field (in place).
func tsvUnescape(f []byte) []byte {
	if bytes.IndexByte(f, '\\') < 0 {
		return f
	}
	out := f[:0]
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			out = append(out, c)
			continue
		}
		i++
		switch f[i] {
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		default: // \\ \' and any other: the byte itself
			out = append(out, f[i])
		}
	}
	return out
}

// atoi64 reads a TabSeparated integer field.
func atoi64(f []byte) int64 {
	n, _ := strconv.ParseInt(string(f), 10, 64)
	return n
}
