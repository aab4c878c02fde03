package handler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/proxydebug/debugmode/internal/tracefile"
)

// A debug file is named <session>[.<segment>]_<category>.jsonl: the session
// ID (see validSessionID), the number of a rotated segment (001, 002, ...,
// 999, 1000, ...; none for the live file) and the category (see
// SanitizeCategory: it never starts with a digit and holds no dot).
//
// A session's execution trace snapshots (see package tracefile) are named
// <session>_execution_trace_<n>.trace, n from 001: a name of its own,
// with a single reading, that the disk budget counts and deletes with its
// session and that repair leaves alone (it is no JSON Lines file).

// fileExt ends every debug file's name.
const fileExt = ".jsonl"

// liveName is the name of a session's live file of a category.
func liveName(session, category string) string {
	return session + "_" + category + fileExt
}

// segmentName is the name of a session's rotated segment n of a category.
func segmentName(session string, n int, category string) string {
	return fmt.Sprintf("%s.%03d_%s%s", session, n, category, fileExt)
}

// sessionFileName is the name of a session's session file, whose lock
// marks the session live (see lockOwner).
func sessionFileName(session string) string {
	return liveName(session, sessionCategory)
}

// sessionCategory is the category of the session file.
const sessionCategory = "session"

// fileName is one reading of a debug file's name.
type fileName struct {
	session  string
	segment  int    // 0 for the live file; a trace snapshot's number
	category string // "" for a trace snapshot
	trace    bool   // an execution trace snapshot, not a JSON Lines file
}

// name is the file name the reading reads.
func (f fileName) name() string {
	switch {
	case f.trace:
		return tracefile.Name(f.session, f.segment)
	case f.segment > 0:
		return segmentName(f.session, f.segment, f.category)
	}
	return liveName(f.session, f.category)
}

// maxSegmentDigits bounds a segment number, so that it fits an int.
const maxSegmentDigits = 9

// parseFileName returns every reading of a debug file's name, shortest
// session ID first, or none when name is not a debug file's.
//
// Session IDs and categories may both hold '_', so a live file's name can
// have more than one reading: proxy_x_requests.jsonl is session proxy's
// category x_requests, or session proxy_x's requests. Since a category
// never starts with a digit, proxy_2_requests.jsonl is only proxy_2's;
// since it holds no dot, a segment's name has one reading.
func parseFileName(name string) []fileName {
	if session, n, ok := tracefile.Parse(name); ok {
		if !validSessionID(session) {
			return nil
		}
		return []fileName{{session: session, segment: n, trace: true}}
	}
	base, ok := strings.CutSuffix(name, fileExt)
	if !ok {
		return nil
	}
	var out []fileName
	for i := 0; i < len(base); i++ {
		if base[i] != '_' || !isCleanCategory(base[i+1:]) {
			continue
		}
		session, segment := base[:i], 0
		if dot := strings.IndexByte(session, '.'); dot >= 0 {
			n, ok := parseSegment(session[dot+1:])
			if !ok {
				continue
			}
			session, segment = session[:dot], n
		}
		if validSessionID(session) {
			out = append(out, fileName{session: session, segment: segment, category: base[i+1:]})
		}
	}
	return out
}

// parseSegment reads a segment number as segmentName writes it: at least
// three digits, zero-padded, from 1.
func parseSegment(s string) (int, bool) {
	if len(s) < 3 || len(s) > maxSegmentDigits {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || fmt.Sprintf("%03d", n) != s {
		return 0, false
	}
	return n, true
}

// isStartTimeID reports whether a session ID is of the default naming: the
// UTC start time as 20060102_150405, with "_2", "_3", ... when that was
// taken. Other processes' sessions of this naming are the only ones the
// disk budget and the sessions kept ever delete.
func isStartTimeID(id string) bool {
	const layout = "20060102_150405"
	if len(id) < len(layout) {
		return false
	}
	for i := 0; i < len(layout); i++ {
		if (layout[i] == '_') != (id[i] == '_') || id[i] != '_' && (id[i] < '0' || id[i] > '9') {
			return false
		}
	}
	rest := id[len(layout):]
	if rest == "" {
		return true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rest, "_"))
	return rest[0] == '_' && err == nil && n >= 2 && strconv.Itoa(n) == rest[1:]
}

// compareSessionIDs orders session IDs of the default naming by start
// time, then by their "_N" suffix as a number (_2 before _10); others by
// string.
func compareSessionIDs(a, b string) int {
	if isStartTimeID(a) && isStartTimeID(b) {
		const n = len("20060102_150405")
		if c := strings.Compare(a[:n], b[:n]); c != 0 {
			return c
		}
		return suffixNumber(a[n:]) - suffixNumber(b[n:])
	}
	return strings.Compare(a, b)
}

// suffixNumber is N of a start-time ID's "_N" suffix, 1 for none.
func suffixNumber(rest string) int {
	if rest == "" {
		return 1
	}
	n, _ := strconv.Atoi(rest[1:])
	return n
}
