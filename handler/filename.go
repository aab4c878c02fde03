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
// <session>_execution_trace_<n>.trace, n from 001: a name with a single
// reading, that the disk budget counts and deletes with its session and
// that repair leaves alone (it is no JSON Lines file).

const (
	fileExt         = ".jsonl"          // ends every debug file's name
	sessionCategory = "session"         // the category of the session file
	startTimeLayout = "20060102_150405" // the default session ID: the UTC start time
)

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

// fileName is one reading of a debug file's name.
type fileName struct {
	session  string
	segment  int    // 0 for the live file; a trace snapshot's number
	category string // "" for a trace snapshot
	trace    bool   // an execution trace snapshot, not a JSON Lines file
}

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
			// At least three digits, zero-padded, from 1; nine at most, to
			// fit an int.
			n, err := strconv.Atoi(session[dot+1:])
			if err != nil || n < 1 || len(session)-dot-1 > 9 || fmt.Sprintf("%03d", n) != session[dot+1:] {
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

// isStartTimeID reports whether a session ID is of the default naming: the
// UTC start time as 20060102_150405, with "_2", "_3", ... when that was
// taken. Other processes' sessions of this naming are the only ones the
// disk budget and the sessions kept ever delete.
func isStartTimeID(id string) bool {
	if len(id) < len(startTimeLayout) {
		return false
	}
	for i := 0; i < len(startTimeLayout); i++ {
		if (startTimeLayout[i] == '_') != (id[i] == '_') || id[i] != '_' && (id[i] < '0' || id[i] > '9') {
			return false
		}
	}
	rest := id[len(startTimeLayout):]
	return rest == "" || rest[0] == '_' && suffixNumber(rest) >= 2 && strconv.Itoa(suffixNumber(rest)) == rest[1:]
}

// compareSessionIDs orders session IDs of the default naming by start
// time, then by their "_N" suffix as a number (_2 before _10); others by
// string.
func compareSessionIDs(a, b string) int {
	if isStartTimeID(a) && isStartTimeID(b) {
		const n = len(startTimeLayout)
		if c := strings.Compare(a[:n], b[:n]); c != 0 {
			return c
		}
		return suffixNumber(a[n:]) - suffixNumber(b[n:])
	}
	return strings.Compare(a, b)
}

// suffixNumber is N of a start-time ID's "_N" suffix, 1 for none, 0 if it
// is no number.
func suffixNumber(rest string) int {
	if rest == "" {
		return 1
	}
	n, _ := strconv.Atoi(rest[1:])
	return n
}
