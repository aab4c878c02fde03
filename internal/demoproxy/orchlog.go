package demoproxy

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// orchLog writes debug files the way the real orchestrator's debug mode
// does (its Python logger), so that the demo leaves a matched sample for
// debuglog: one file per category, <session>_<category>.jsonl, the session
// being the UTC start time (20060102_150405); each line session_id,
// timestamp (isoformat: 6-digit fraction and +00:00, no fraction when the
// microseconds are 0), elapsed_seconds (3 decimals), then the event's
// fields in order, with json.dumps' separators (", " and ": "), non-ASCII
// escaped, null for missing values and floats that always have a fraction.
type orchLog struct {
	mu      sync.Mutex
	dir     string
	session string
	start   time.Time
	now     func() time.Time
	files   map[string]*os.File
	bufs    map[string]*bufio.Writer
	err     error
}

// kv is one field of an orchestrator line, in order.
type kv struct {
	k string
	v any
}

// float is a Python float: always written with a fraction (210.0).
type float float64

func newOrchLog(dir string, now func() time.Time) (*orchLog, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	start := now().UTC()
	l := &orchLog{dir: dir, session: start.Format("20060102_150405"), start: start, now: now, files: map[string]*os.File{}, bufs: map[string]*bufio.Writer{}}
	l.log("session", kv{"event", "session_start"}, kv{"log_directory", dir})
	return l, nil
}

// log writes one line in category.
func (l *orchLog) log(category string, fields ...kv) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.files == nil { // closed
		return
	}
	w := l.bufs[category]
	if w == nil {
		f, err := os.OpenFile(filepath.Join(l.dir, l.session+"_"+category+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			if l.err == nil {
				l.err = err
			}
			return
		}
		l.files[category], w = f, bufio.NewWriter(f)
		l.bufs[category] = w
	}
	t := l.now().UTC()
	elapsed := math.Round(t.Sub(l.start).Seconds()*1000) / 1000
	b := make([]byte, 0, 256)
	b = append(b, '{')
	b = appendPair(b, "session_id", l.session, true)
	b = appendPair(b, "timestamp", isoformat(t), false)
	b = appendPair(b, "elapsed_seconds", float(elapsed), false)
	for _, f := range fields {
		b = appendPair(b, f.k, f.v, false)
	}
	b = append(b, '}', '\n')
	if _, err := w.Write(b); err != nil && l.err == nil {
		l.err = err
	}
}

// flush writes what is buffered.
func (l *orchLog) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.bufs {
		if err := w.Flush(); err != nil && l.err == nil {
			l.err = err
		}
	}
	return l.err
}

// close flushes and closes the files.
func (l *orchLog) close() error {
	if l == nil {
		return nil
	}
	err := l.flush()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.files {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	l.files, l.bufs = nil, nil
	return err
}

// isoformat is Python's datetime.isoformat() of an aware UTC time.
func isoformat(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05") + "+00:00"
	}
	return t.Format("2006-01-02T15:04:05.000000") + "+00:00"
}

func appendPair(b []byte, k string, v any, first bool) []byte {
	if !first {
		b = append(b, ", "...)
	}
	b = appendPyString(b, k)
	b = append(b, ": "...)
	return appendPyValue(b, v)
}

func appendPyValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendPyString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float:
		s := strconv.FormatFloat(float64(x), 'f', -1, 64)
		b = append(b, s...)
		for i := 0; i < len(s); i++ {
			if s[i] == '.' {
				return b
			}
		}
		return append(b, ".0"...)
	case []kv:
		b = append(b, '{')
		for i, f := range x {
			b = appendPair(b, f.k, f.v, i == 0)
		}
		return append(b, '}')
	}
	return appendPyString(b, fmt.Sprint(v))
}

// appendPyString writes a JSON string as json.dumps does (ensure_ascii).
func appendPyString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20 || r >= 0x7f:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			if r > 0xffff {
				r -= 0x10000
				for _, u := range []rune{0xd800 + r>>10, 0xdc00 + r&0x3ff} {
					b = append(b, '\\', 'u', hex[u>>12&0xf], hex[u>>8&0xf], hex[u>>4&0xf], hex[u&0xf])
				}
				continue
			}
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}
