package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
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
}

// str returns a field as a string ("" when absent or null).
func (e *Event) str(key string) string {
	switch v := e.Fields[key].(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		return strings.TrimSuffix(fmt.Sprintf("%f", v), ".000000")
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
}

// findFiles lists the debug files in dirs (or the files given), with the
// system they come from: system when set, otherwise guessed from the first
// line (the proxy's lines have "level" and "msg").
func findFiles(paths []string, system string) ([]file, error) {
	var out []file
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		var names []string
		if fi.IsDir() {
			names, err = filepath.Glob(filepath.Join(p, "*.jsonl"))
			if err != nil {
				return nil, err
			}
			sort.Strings(names)
		} else {
			names = []string{p}
		}
		for _, name := range names {
			f := file{path: name, system: system}
			if m := sessionFile.FindStringSubmatch(filepath.Base(name)); m != nil {
				f.session, f.category = m[1], m[2]
			} else {
				f.category = strings.TrimSuffix(filepath.Base(name), ".jsonl")
			}
			if f.system == "" {
				f.system = guessSystem(name)
			}
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .jsonl files in %s", strings.Join(paths, ", "))
	}
	return out, nil
}

// guessSystem reads the first line of a file: debugmode writes "level" and
// "msg" on every line, the orchestrator neither.
func guessSystem(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return systemProxy
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, maxLine)).ReadBytes('\n')
	var m map[string]any
	if json.Unmarshal(line, &m) == nil {
		_, level := m["level"]
		_, msg := m["msg"]
		if !level && !msg {
			return systemOrch
		}
	}
	return systemProxy
}

// warner reports malformed input on stderr, file:line first, at most
// maxWarnings a file (then a count).
type warner struct {
	mu      sync.Mutex
	w       io.Writer
	perFile map[string]int
	total   int
}

const maxWarnings = 10

func newWarner(w io.Writer) *warner { return &warner{w: w, perFile: map[string]int{}} }

func (w *warner) warn(path string, line int, format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total++
	w.perFile[path]++
	if n := w.perFile[path]; n <= maxWarnings {
		fmt.Fprintf(w.w, "debuglog: warning: %s:%d: %s\n", path, line, fmt.Sprintf(format, args...))
	} else if n == maxWarnings+1 {
		fmt.Fprintf(w.w, "debuglog: warning: %s: more malformed lines; not shown\n", path)
	}
}

// readFile streams the events of a file to fn, one line at a time (memory
// stays bounded whatever the file's size), warning about lines it cannot
// read and carrying on. fn returns false to stop.
func readFile(f file, warn *warner, fn func(*Event) bool) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	r := bufio.NewReaderSize(fh, 64<<10)
	lineNo := 0
	var long bool
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !long {
				buf = append(buf, chunk...)
				if len(buf) > maxLine {
					long, buf = true, buf[:0]
				}
			}
			continue
		}
		if len(chunk) > 0 || len(buf) > 0 {
			lineNo++
			complete := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
			line := chunk
			if len(buf) > 0 {
				line = append(buf, chunk...)
				buf = buf[:0]
			}
			if len(line) > maxLine {
				long = true
			}
			switch {
			case long:
				warn.warn(f.path, lineNo, "line longer than %d bytes; skipped", maxLine)
				long = false
			case len(bytes.TrimSpace(line)) == 0:
			default:
				ev, perr := parseLine(f, line, lineNo)
				if perr != nil {
					if !complete {
						warn.warn(f.path, lineNo, "partial last line (the writer was cut off?); skipped")
					} else {
						warn.warn(f.path, lineNo, "%v; skipped", perr)
					}
				} else if !fn(ev) {
					return nil
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseLine decodes one line into an event.
func parseLine(f file, line []byte, lineNo int) (*Event, error) {
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	ev := &Event{System: f.system, Session: f.session, Category: f.category, Fields: m, File: f.path, Line: lineNo}
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
