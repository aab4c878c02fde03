package debuglog

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// goroutinesKey is the field of a stress line (and of the requests or
// streams line a watchdog caught) naming the goroutine snapshot written
// for it (slogdebug's Config.Goroutines): a file of the same directory.
const goroutinesKey = "goroutines"

// goroutineSnapshot returns the path of the goroutine snapshot an event
// names, beside the event's file, or "" for none; only a plain file name
// is taken.
func goroutineSnapshot(ev *Event) string { return snapshotPath(ev, goroutinesKey, ".txt") }

// stack is one entry of a goroutine profile as runtime/pprof writes it
// with debug=1: how many goroutines share the stack and labels.
type stack struct {
	Count   int               `json:"count"`
	Labels  map[string]string `json:"labels,omitempty"`
	Waiting string            `json:"waiting_on,omitempty"` // blockedOn's, in --json
	Call    *frame            `json:"in,omitempty"`
	Frames  []frame           `json:"frames"`
}

// snapshotJSON is a goroutine snapshot in request --json.
type snapshotJSON struct {
	Path   string  `json:"path"`
	Stacks []stack `json:"stacks"` // those labelled with the request's ID
	Error  string  `json:"error,omitempty"`
}

type frame struct {
	Func string `json:"func"`
	File string `json:"file"` // file:line
}

var (
	stackHead   = regexp.MustCompile(`^(\d+) @( 0x[0-9a-f]+)*$`)
	labelPair   = regexp.MustCompile(`"((?:[^"\\]|\\.)*)":"((?:[^"\\]|\\.)*)"`)
	frameLine   = regexp.MustCompile(`^#\s+0x[0-9a-f]+\s+(\S+)\s+(.*)$`)
	maxStacks   = 100000 // a snapshot's entries read at most
	maxSnapRead = int64(256 << 20)
)

// readStacks reads a goroutine snapshot (debug=1 text), at most its first
// 256 MiB and 100,000 stacks.
func readStacks(path string) ([]stack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseStacks(io.LimitReader(f, maxSnapRead))
}

func parseStacks(r io.Reader) ([]stack, error) {
	var out []stack
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur *stack
	for sc.Scan() {
		line := sc.Text()
		switch {
		case stackHead.MatchString(line):
			if len(out) == maxStacks {
				return out, nil
			}
			n, _ := strconv.Atoi(line[:strings.IndexByte(line, ' ')])
			out = append(out, stack{Count: n})
			cur = &out[len(out)-1]
		case cur == nil:
		case strings.HasPrefix(line, "# labels: "):
			cur.Labels = map[string]string{}
			for _, m := range labelPair.FindAllStringSubmatch(line, -1) {
				k, err1 := strconv.Unquote(`"` + m[1] + `"`)
				v, err2 := strconv.Unquote(`"` + m[2] + `"`)
				if err1 == nil && err2 == nil {
					cur.Labels[k] = v
				}
			}
		case frameLine.MatchString(line):
			m := frameLine.FindStringSubmatch(line)
			fn := m[1]
			if i := strings.LastIndex(fn, "+0x"); i > 0 {
				fn = fn[:i]
			}
			cur.Frames = append(cur.Frames, frame{Func: fn, File: strings.TrimSpace(m[2])})
		case line == "":
			cur = nil
		}
	}
	return out, sc.Err()
}

// blockedOn names what a stack waits on, from its top frames, and the
// call of the program's own (outside the standard library) that waits.
func (s stack) blockedOn() (what string, call *frame) {
	what = "running (or runnable)"
	found := false
	for i := range s.Frames {
		fn := s.Frames[i].Func
		if !found {
			if w := waitOf(fn, s.Frames[i:]); w != "" {
				what, found = w, true
			}
		}
		if !standard(fn) {
			return what, &s.Frames[i]
		}
	}
	return what, nil
}

// waitOf names the wait of a frame of the runtime or the standard library
// (rest: that frame and those below it), or "".
func waitOf(fn string, rest []frame) string {
	switch {
	case fn == "runtime.chanrecv" || fn == "runtime.chanrecv1" || fn == "runtime.chanrecv2":
		return "a channel receive"
	case fn == "runtime.chansend" || fn == "runtime.chansend1":
		return "a channel send"
	case fn == "runtime.selectgo" || fn == "runtime.block":
		for _, f := range rest {
			if strings.HasPrefix(f.Func, "net/http.(*persistConn).roundTrip") {
				return "an HTTP call's answer (net/http)"
			}
		}
		return "a select"
	case strings.HasPrefix(fn, "net/http.(*persistConn).roundTrip"): // a snapshot without the runtime's frames
		return "an HTTP call's answer (net/http)"
	case fn == "internal/poll.runtime_pollWait":
		for _, f := range rest {
			switch {
			case strings.HasSuffix(f.Func, ".(*FD).Read") || strings.HasSuffix(f.Func, ".(*conn).Read"):
				return "a network read"
			case strings.HasSuffix(f.Func, ".(*FD).Write") || strings.HasSuffix(f.Func, ".(*conn).Write"):
				return "a network write"
			case strings.HasSuffix(f.Func, ".(*FD).Accept"):
				return "an accept"
			}
		}
		return "network I/O"
	case strings.HasPrefix(fn, "sync.(*WaitGroup).Wait"):
		return "a sync.WaitGroup"
	case strings.HasPrefix(fn, "sync.(*Cond).Wait"):
		return "a sync.Cond"
	case strings.HasPrefix(fn, "sync.(*Mutex).Lock") || strings.HasPrefix(fn, "sync.(*RWMutex).") || fn == "sync.runtime_SemacquireMutex" ||
		fn == "sync.runtime_SemacquireRWMutex" || fn == "sync.runtime_SemacquireRWMutexR" || fn == "internal/sync.runtime_SemacquireMutex":
		return "a lock (sync.Mutex)"
	case fn == "time.Sleep":
		return "a sleep"
	case strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "internal/runtime/syscall."):
		return "a system call"
	}
	return ""
}

// standard reports whether fn is of the Go distribution: its package path's
// first element has no dot (and it is not package main).
func standard(fn string) bool {
	pkg := fn
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
		pkg = pkg[:j]
	}
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".") && pkg != "main"
}

// requestStacks are the stacks of a snapshot labelled with request id.
func requestStacks(stacks []stack, id string) []stack {
	var out []stack
	for _, s := range stacks {
		if s.Labels["request_id"] == id {
			out = append(out, s)
		}
	}
	return out
}

// printStacks writes the request's goroutines in a snapshot.
func printStacks(out io.Writer, path string, stacks []stack) {
	total := 0
	for _, s := range stacks {
		total += s.Count
	}
	fmt.Fprintf(out, "goroutines of the request in the snapshot %s: %d\n", escapeText(path), total)
	for _, s := range stacks {
		what, call := s.blockedOn()
		where := ""
		if call != nil {
			where = fmt.Sprintf(", in %s (%s)", call.Func, filepath.Base(call.File))
		}
		route := ""
		if r := s.Labels["route"]; r != "" {
			route = " (route " + r + ")"
		}
		fmt.Fprintf(out, "  %d goroutine%s%s waiting on %s%s\n", s.Count, plural1(s.Count), escapeText(route), escapeText(what), escapeText(where))
		for _, f := range shownFrames(s.Frames, call) {
			if f == nil {
				fmt.Fprintln(out, "      ...")
				continue
			}
			fmt.Fprintf(out, "      %-60s %s\n", escapeText(f.Func), escapeText(f.File))
		}
	}
}

// shownFrames are the frames printed of a stack: the top ones down to the
// program's call that waits and a few below it (nil: frames left out).
func shownFrames(frames []frame, call *frame) []*frame {
	at := len(frames)
	for i := range frames {
		if &frames[i] == call {
			at = i
		}
	}
	var out []*frame
	for i := range frames {
		switch {
		case i < 6 || (i >= at-2 && i < at+6):
			out = append(out, &frames[i])
		case len(out) > 0 && out[len(out)-1] != nil:
			out = append(out, nil)
		}
	}
	return out
}

func plural1(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
