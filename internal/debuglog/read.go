package debuglog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Systems an event can come from.
const (
	systemProxy = "proxy"
	systemOrch  = "orchestrator"
)

// maxLine is the longest line read; a longer one is skipped with a warning.
const maxLine = 4 << 20

// Event is one line of a debug file, from either system.
type Event struct {
	System   string
	Session  string
	Category string
	Time     time.Time // zero when the line has no readable timestamp
	Fields   map[string]any
	File     string
	Line     int
	Offset   int64 // where the line begins in its file
	// repeated are the line's own keys that an attribute repeated later in
	// the line (the first, the line's own, value was taken).
	repeated []string
}

// str returns a field as a string ("" when absent or null).
func (e *Event) str(key string) string {
	switch v := e.Fields[key].(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

// num returns a numeric field.
func (e *Event) num(key string) (float64, bool) {
	v, ok := e.Fields[key].(float64)
	return v, ok
}

// maxDurationMS is the longest duration_ms taken as a duration: about the
// longest a time.Duration holds (292 years).
const maxDurationMS = 9e12

// durationMS returns the event's duration_ms when it is one: a number from
// 0 to maxDurationMS. Anything else (1e308, a negative, a number written as
// text) is shown with the line but is no duration: it neither stretches a
// request's span nor a report's axis.
func (e *Event) durationMS() (float64, bool) {
	v, ok := e.num("duration_ms")
	if !ok || math.IsNaN(v) || v < 0 || v > maxDurationMS {
		return 0, false
	}
	return v, true
}

// name is what the event is: its event_type, operation, event or msg.
func (e *Event) name() string {
	for _, k := range []string{"event_type", "operation", "event", "msg", "component"} {
		if s := e.str(k); s != "" {
			return s
		}
	}
	return e.Category
}

// sessionFile splits <session>[.SEG]_<category>.jsonl; the session is
// YYYYMMDD_HHMMSS with an optional _N, as both systems name them, and .SEG
// numbers debugmode's rotated segments.
var sessionFile = regexp.MustCompile(`^(\d{8}_\d{6}(?:_\d+)?)(?:\.\d+)?_(.+)\.jsonl$`)

// file is one debug file to read.
type file struct {
	path, session, category, system string
	store                           *storeFile // read from the store (--clickhouse), not from path
}

// findFiles lists the debug files in dirs (or the files given), with the
// system they come from: system when set, otherwise guessed from the first
// line (the proxy's lines have "level" and "msg"). Only regular files are
// listed: a FIFO, a device, a directory, a symlink loop or a dangling link
// named *.jsonl is skipped with a warning, so that nothing can hang or abort
// a run. A path given that does not exist is an error (a typo).
func findFiles(ctx context.Context, paths []string, system string, warn *warner) ([]file, error) {
	var out []file
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if _, lerr := os.Lstat(p); lerr != nil {
				return nil, fmt.Errorf("%s: %v (is the path right?)", escapeText(p), unwrapPath(err))
			}
		}
		if err != nil {
			warn.skip(p, "%v; skipped", unwrapPath(err))
			continue
		}
		var names []string
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				warn.skip(p, "cannot list the directory: %v; skipped", unwrapPath(err))
			}
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".jsonl") {
					names = append(names, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(names)
		} else {
			names = []string{p}
		}
		for _, name := range names {
			if err := checkRegular(name); err != nil {
				warn.skip(name, "%v; skipped", err)
				continue
			}
			out = append(out, describeFile(ctx, name, system))
		}
	}
	if len(out) == 0 {
		quoted := make([]string, len(paths))
		for i, p := range paths {
			quoted[i] = escapeText(p)
		}
		return nil, fmt.Errorf("no readable .jsonl files in %s (debug files are named <session>_<category>.jsonl)", strings.Join(quoted, ", "))
	}
	return out, nil
}

// errNotRegular says what a path is when it is not a regular file.
type errNotRegular struct{ mode fs.FileMode }

func (e errNotRegular) Error() string {
	kind := "irregular file"
	switch {
	case e.mode&fs.ModeNamedPipe != 0:
		kind = "named pipe"
	case e.mode&fs.ModeDevice != 0 || e.mode&fs.ModeCharDevice != 0:
		kind = "device"
	case e.mode.IsDir():
		kind = "directory"
	case e.mode&fs.ModeSocket != 0:
		kind = "socket"
	}
	return "not a regular file (" + kind + ")"
}

// checkRegular says why a path cannot be read as a debug file: it (or what
// it links to) does not exist, loops, or is not a regular file.
func checkRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return unwrapPath(err)
	}
	if !fi.Mode().IsRegular() {
		return errNotRegular{fi.Mode()}
	}
	f, err := openRegular(path) // the file system: a regular file of procfs is refused too
	if err != nil {
		return err
	}
	return f.Close()
}

// errSpecialFS is a regular file of a special file system (procfs, sysfs,
// debugfs...): it reads like a file but is made by the kernel as it is
// read, and a read can block for good (/proc/kmsg waits for the kernel's
// next message).
type errSpecialFS struct{ fs string }

func (e errSpecialFS) Error() string {
	return "a file of " + e.fs + ", a special file system whose files can block a reader (like /proc/kmsg); not a debug file"
}

// unwrapPath drops the *PathError's path (the warning names it already).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openInput opens a debug file to read (tests replace it).
var openInput = openRegular

// openRegular opens a file for reading only if it is a regular file of an
// ordinary file system. The open itself cannot block (O_NONBLOCK: a FIFO
// swapped in since the listing opens at once), and the checks are made on
// the open descriptor, so no race lets a pipe, a device or a file of procfs
// through.
func openRegular(path string) (*os.File, error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, unwrapPath(err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, unwrapPath(err)
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return nil, errNotRegular{fi.Mode()}
	}
	if fs := specialFS(fh); fs != "" {
		fh.Close()
		return nil, errSpecialFS{fs}
	}
	return fh, nil
}

// readStall is how long a read of a debug file may take before the rest of
// the file is given up (a hung network or FUSE mount): far longer than any
// disk takes.
var readStall = 30 * time.Second

// errStalled is a read that did not return within readStall.
var errStalled = errors.New("a read did not return in " + readStall.String() + " (a hung network or FUSE mount?)")

// abandonable reads a file in a goroutine of its own, so that a read that
// blocks can be left behind: when ctx ends (a signal) Read returns
// ctx.Err(), and after readStall errStalled, at once, while the read
// itself finishes (or not) on its own. Once left, the reader stays failed.
type abandonable struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte          // the goroutine's buffer, copied out when its read returns
	res  chan readResult // capacity 1: a read left behind never blocks
	busy bool            // a read is in flight
	err  error
}

type readResult struct {
	n   int
	err error
}

func newAbandonable(ctx context.Context, r io.Reader) *abandonable {
	return &abandonable{ctx: ctx, r: r, res: make(chan readResult, 1)}
}

func (a *abandonable) Read(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if err := a.ctx.Err(); err != nil {
		a.err = err
		return 0, err
	}
	if !a.busy {
		if cap(a.buf) < len(p) {
			a.buf = make([]byte, len(p))
		}
		buf := a.buf[:len(p)]
		a.busy = true
		go func() {
			n, err := a.r.Read(buf)
			a.res <- readResult{n, err}
		}()
	}
	stall := time.NewTimer(readStall)
	defer stall.Stop()
	select {
	case res := <-a.res:
		a.busy = false
		return copy(p, a.buf[:res.n]), res.err
	case <-a.ctx.Done():
		a.err = a.ctx.Err()
	case <-stall.C:
		a.err = errStalled
	}
	a.buf = nil // the goroutine left behind may still write into it
	return 0, a.err
}

// guessSystem reads the first line of a file: debugmode writes "level" and
// "msg" on every line, the orchestrator neither.
func guessSystem(ctx context.Context, path string) string {
	return systemOf(firstLine(ctx, path))
}

// systemOf says which system wrote a line (decoded; nil when it could not
// be read): the proxy unless it has neither "level" nor "msg".
func systemOf(m map[string]any) string {
	if m != nil {
		_, level := m["level"]
		_, msg := m["msg"]
		if !level && !msg {
			return systemOrch
		}
	}
	return systemProxy
}

// firstLine decodes the first line of a file (nil when it cannot).
func firstLine(ctx context.Context, path string) map[string]any {
	f, err := openInput(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(newAbandonable(ctx, f), maxLine)).ReadBytes('\n')
	var m map[string]any
	if json.Unmarshal(line, &m) != nil {
		return nil
	}
	return m
}

// warner reports unreadable input on stderr, file:line first, at most
// maxWarnings a file; past that it counts, and finish says how many more
// there were. Lines skipped and files skipped are counted apart from notes
// about lines that were read all the same.
type warner struct {
	mu           sync.Mutex
	w            io.Writer
	perFile      map[string]int
	order        []string
	skippedLines int
	skippedFiles int
}

const maxWarnings = 10

func newWarner(w io.Writer) *warner { return &warner{w: w, perFile: map[string]int{}} }

// line reports a skipped line.
func (w *warner) line(path string, line int, format string, args ...any) {
	w.mu.Lock()
	w.skippedLines++
	w.mu.Unlock()
	w.report(fmt.Sprintf("%s:%d", escapeText(path), line), path, format, args...)
}

// note reports something about a line that was read all the same.
func (w *warner) note(path string, line int, format string, args ...any) {
	w.report(fmt.Sprintf("%s:%d", escapeText(path), line), path, format, args...)
}

// about reports something about a file (or directory) that is still read.
func (w *warner) about(path string, format string, args ...any) {
	w.report(escapeText(path), path, format, args...)
}

// skip reports a file (or directory) left out.
func (w *warner) skip(path string, format string, args ...any) {
	w.mu.Lock()
	w.skippedFiles++
	w.mu.Unlock()
	w.report(escapeText(path), path, format, args...)
}

// general reports something about the input as a whole.
func (w *warner) general(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.w, "debuglog: warning: %s\n", safeText(fmt.Sprintf(format, args...)))
}

// report prints a warning; where is the file (or file:line), escaped.
func (w *warner) report(where, path, format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.perFile[path] == 0 {
		w.order = append(w.order, path)
	}
	w.perFile[path]++
	if w.perFile[path] <= maxWarnings {
		fmt.Fprintf(w.w, "debuglog: warning: %s: %s\n", where, escapeText(fmt.Sprintf(format, args...)))
	}
}

// finish says, per file, how many warnings were over the cap.
func (w *warner) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, path := range w.order {
		if n := w.perFile[path]; n > maxWarnings {
			fmt.Fprintf(w.w, "debuglog: warning: %s: %d more warnings not shown (%d in all)\n", escapeText(path), n-maxWarnings, n)
		}
	}
}

// readFile streams the events of a file to fn, one line at a time (memory
// stays bounded whatever the file's size: a line over maxLine is counted,
// not held), warning about lines it cannot read and carrying on. A file
// that cannot be opened or read is a warning too. fn returns false to stop.
func readFile(ctx context.Context, f file, warn *warner, fn func(*Event) bool) error {
	if f.store != nil {
		return f.store.read(ctx, f, warn, fn)
	}
	fh, err := openInput(f.path)
	if err != nil {
		warn.skip(f.path, "%v; skipped", err)
		return nil
	}
	defer fh.Close()
	r := bufio.NewReaderSize(newAbandonable(ctx, fh), 64<<10)
	lineNo := 0
	var buf []byte // the line so far, while it is within maxLine
	var size int64 // the line's length so far, however long
	var pos int64  // where the line begins
	for {
		chunk, err := r.ReadSlice('\n')
		size += int64(len(chunk))
		if size <= maxLine+1 { // +1: the newline
			buf = append(buf, chunk...)
		} else {
			buf = buf[:0]
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if size > 0 {
			lineNo++
			complete := err == nil // ReadSlice stopped at a newline
			length := size
			if complete {
				length--
			}
			line := bytes.TrimSuffix(buf, []byte("\n"))
			switch {
			case length > maxLine && !complete:
				warn.line(f.path, lineNo, "line longer than %d bytes (unterminated; the writer was cut off?); skipped", maxLine)
			case length > maxLine:
				warn.line(f.path, lineNo, "line longer than %d bytes; skipped", maxLine)
			case len(bytes.TrimSpace(line)) == 0:
			default:
				ev, perr := parseLine(f, line, lineNo)
				switch {
				case perr != nil && !complete:
					warn.line(f.path, lineNo, "partial last line (the writer was cut off?); skipped")
				case perr != nil:
					warn.line(f.path, lineNo, "%v; skipped", perr)
				default:
					ev.Offset = pos
					noteRepeated(warn, ev)
					if ev.Fields["truncated"] == true {
						warn.note(f.path, lineNo, `cut by the writer at its line limit ("truncated": true); read as it is`)
					}
					if !fn(ev) {
						return nil
					}
				}
			}
			buf, pos, size = buf[:0], pos+size, 0
		}
		if err == io.EOF {
			return nil
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return err
		}
		if err != nil {
			warn.skip(f.path, "read error after line %d: %v; the rest of the file skipped", lineNo, unwrapPath(err))
			return nil
		}
	}
}

// ownKeys are the keys the writers put first on every line; an attribute
// of the same name repeats one later in the line.
var ownKeys = []string{"session_id", "timestamp", "elapsed_seconds", "level", "category", "msg"}

// noteRepeated says that a line repeated its own keys.
func noteRepeated(warn *warner, ev *Event) {
	if len(ev.repeated) > 0 {
		warn.note(ev.File, ev.Line, "the line repeats its own keys (%s: an attribute of the same name?); the line's own, first, values taken", strings.Join(ev.repeated, ", "))
	}
}

// parseLine decodes one line into an event. encoding/json takes the last
// of repeated keys; a line's own keys come first, so a line that may
// repeat one (or holds a number float64 cannot, 1e400) is decoded key by
// key instead (decodeLine).
func parseLine(f file, line []byte, lineNo int) (*Event, error) {
	var m map[string]any
	var repeated []string
	err := json.Unmarshal(line, &m)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) || (err == nil && m != nil && mayRepeatOwnKeys(line)) {
		m, repeated, err = decodeLine(line) // valid JSON: Unmarshal checks the syntax before it decodes
	}
	if err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	ev := &Event{System: f.system, Session: f.session, Category: f.category, Fields: m, File: f.path, Line: lineNo, repeated: repeated}
	if s, ok := m["session_id"].(string); ok && s != "" {
		ev.Session = s
	}
	if c, ok := m["category"].(string); ok && c != "" && f.system == systemProxy {
		ev.Category = c
	}
	if ts, ok := m["timestamp"].(string); ok {
		t, err := parseTime(ts)
		if err != nil {
			return nil, fmt.Errorf("timestamp %q: %v", ts, err)
		}
		ev.Time = t
	}
	return ev, nil
}

// mayRepeatOwnKeys says whether a line may hold one of its own keys twice:
// one of them is written twice as a key or a value, or a string holds a
// \u escape (a key may be spelled with one). One pass over the line.
func mayRepeatOwnKeys(line []byte) bool {
	var seen uint8
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			if i+1 < len(line) && line[i+1] == 'u' {
				return true
			}
			i++ // an escaped quote is no quote
		case '"':
			rest := line[i+1:]
			for k, key := range ownKeys {
				if len(rest) > len(key) && rest[len(key)] == '"' && string(rest[:len(key)]) == key {
					if seen&(1<<k) != 0 {
						return true
					}
					seen |= 1 << k
				}
			}
		}
	}
	return false
}

// decodeLine decodes a JSON object key by key: of a repeated own key the
// first value is kept (and the key named in repeated), of other repeated
// keys the last (as encoding/json and jq); numbers float64 cannot hold
// (1e400) are kept as their text.
func decodeLine(line []byte) (map[string]any, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	m := map[string]any{}
	var repeated []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, seen := m[key]; seen && slices.Contains(ownKeys, key) {
			if !slices.Contains(repeated, key) {
				repeated = append(repeated, key)
			}
			continue
		}
		m[key] = plainNumbers(v)
	}
	return m, repeated, nil
}

// plainNumbers turns the json.Numbers of a decoded value into float64,
// or into their text when float64 cannot hold them.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return string(x)
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}

// parseTime reads both systems' timestamps: debugmode's
// 2026-11-26T10:17:16.587114000Z and Python's isoformat
// 2026-11-26T10:17:16.587114+00:00 (no fraction when it is zero, and no
// offset from a naive datetime, taken as UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, errors.New("want RFC 3339 / ISO 8601")
	}
	return t, nil
}
