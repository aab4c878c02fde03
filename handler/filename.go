package handler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/proxydebug/debugmode/internal/tracefile"
)

// A debug file is <session>[.<segment>]_<category>.jsonl (segment 001, 002,
// ...; none when live); trace snapshots are <session>_execution_trace_<n>.trace.

const (
	fileExt         = ".jsonl"          // ends every debug file's name
	sessionCategory = "session"         // the category of the session file
	startTimeLayout = "20060102_150405" // the default session ID: the UTC start time
)

func liveName(session, category string) string {
	return session + "_" + category + fileExt
}

func segmentName(session string, n int, category string) string {
	return fmt.Sprintf("%s.%03d_%s%s", session, n, category, fileExt)
}

// sessionFileName's lock marks the session live (see lockOwner).
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
// session ID first: both may hold '_', so proxy_x_requests.jsonl is
// ambiguous; a category never starts with a digit nor holds a dot.
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
			// 3 to 9 digits, zero-padded, from 1.
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

// isStartTimeID reports whether a session ID is of the default naming, the
// only other sessions the disk budget ever deletes.
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

// compareSessionIDs orders start-time IDs by time, then "_N" as a number.
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

// suffixNumber is N of "_N", 1 for none, 0 if not a number.
func suffixNumber(rest string) int {
	if rest == "" {
		return 1
	}
	n, _ := strconv.Atoi(rest[1:])
	return n
}
