package debuglog

import (
	"net/url"
	"path/filepath"
	"strings"
)

// executionTraceKey is the stress line's field naming the execution trace
// snapshot written for the event (slogdebug's Config.ExecutionTrace): a
// file of the same directory.
const executionTraceKey = "execution_trace"

// executionTrace returns the path of the execution trace snapshot an
// event names, beside the event's file, or "" for none. Only a plain file
// name is taken: a line cannot point the tools outside its directory.
func executionTrace(ev *Event) string { return snapshotPath(ev, executionTraceKey, ".trace") }

// snapshotPath returns the path of the file with extension ext that an
// event's field key names, beside the event's file, or "" for none.
func snapshotPath(ev *Event, key, ext string) string {
	name := ev.str(key)
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || !strings.HasSuffix(name, ext) {
		return ""
	}
	return filepath.Join(filepath.Dir(ev.File), name)
}

// traceLink is an execution trace snapshot as the report links it: the
// path to give `go tool trace`, and the link from the report's directory.
type traceLink struct {
	Path string `json:"path"`
	Href string `json:"href"`
}

// linkFrom returns the link to the file at path from a page in dir: a
// relative URL when there is one, the absolute path otherwise.
func linkFrom(dir, path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		rel = abs
	}
	rel = filepath.ToSlash(rel)
	if !strings.HasPrefix(rel, "/") && !strings.HasPrefix(rel, "../") {
		rel = "./" + rel // a first segment with a colon is no scheme
	}
	u := url.URL{Path: rel}
	return u.EscapedPath()
}
