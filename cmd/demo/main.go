// Command demo is debugmode's main job: it starts, on loopback only, a fake
// engine orchestrator, a fake AceStream engine and a proxy that uses the
// integration middleware and wrappers with debug mode on; drives a scripted
// load of a few thousand requests (normal traffic, a burst of slow starts
// beside long streams and one that stalls, a period of trouble on the
// orchestrator: its VPN down, clients refused at once, then its circuit
// breaker open, clients waiting for its ETA; slow provisioning as it
// recovers); then prints where the files are, their line counts per
// category, and the stress events found.
//
// It honours the library's environment (DEBUG_LOG_DIR, DEBUG_QUEUE_BYTES,
// DEBUG_STRESS_*, ...); debug mode is always on here, and so are goroutine
// snapshots (DEBUG_GOROUTINES) and the execution trace recorder
// (DEBUG_EXECUTION_TRACE=10s, when built with Go 1.25 or newer), unless the
// variables say otherwise; the console shows
// only Error and up unless DEBUG_CONSOLE_LEVEL says otherwise, so that the
// progress bar stays readable.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/proxydebug/debugmode/internal/debuglog"
	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

func main() {
	requests := flag.Int("requests", 3000, "normal requests to send (the slow and failing ones come on top)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, demoproxy.Scenario{Requests: *requests}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run runs the scenario sc (its zero fields take the demo's defaults) with
// debug mode on, then prints what the files hold and what debuglog makes of
// them.
func run(ctx context.Context, out io.Writer, sc demoproxy.Scenario) error {
	cfg, err := slogdebug.ConfigFromEnv()
	if err != nil {
		return err
	}
	cfg.Enabled = true
	if _, set := os.LookupEnv("DEBUG_CONSOLE_LEVEL"); !set {
		cfg.ConsoleLevel = 8 // slog.LevelError
	}
	if _, set := os.LookupEnv("DEBUG_EXECUTION_TRACE"); !set && slogdebug.ExecutionTraceSupported() {
		// The runtime's execution trace of the seconds before a stress
		// event, written beside the files.
		cfg.ExecutionTrace = 10 * time.Second
	}
	if _, set := os.LookupEnv("DEBUG_GOROUTINES"); !set {
		cfg.Goroutines = true // where a slow request's goroutine waited, on any Go
	}
	logger, err := slogdebug.Init(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "debug session %s in %s\n", logger.SessionID(), logger.Dir())

	bar := newProgress(out)
	orchDir := filepath.Join(logger.Dir(), "orchestrator")
	sc.Log, sc.Progress, sc.OrchestratorDir = logger, bar.update, orchDir
	report, runErr := sc.Run(ctx)
	bar.finish()
	if err := slogdebug.Close(); err != nil {
		return fmt.Errorf("closing the debug session: %w", err)
	}
	if runErr != nil {
		return runErr
	}

	statuses := make([]string, 0, len(report.ByStatus))
	for code, n := range report.ByStatus {
		statuses = append(statuses, fmt.Sprintf("%d×%d", n, code))
	}
	sort.Strings(statuses)
	fmt.Fprintf(out, "\n%d requests in %.1fs through the proxy at %s: %s; %d without an answer\n",
		report.Requests, report.Duration.Seconds(), report.ProxyAddr, strings.Join(statuses, ", "), report.Failed)
	if err := summarize(out, logger); err != nil {
		return err
	}
	return explain(out, logger, orchDir, report.OrchestratorSession, sc.HealthInterval)
}

// runDebuglog runs a debuglog command line in-process (tests record them).
var runDebuglog = debuglog.Run

// debuglogCommand is how the demo prints a debuglog command: runnable from
// the module's root as it is printed.
const debuglogCommand = "go run ./cmd/debuglog"

// runShown prints a debuglog command line exactly as it runs it, then runs
// it; its warnings go to out too, as they would on a terminal.
func runShown(out io.Writer, args []string) error {
	fmt.Fprintf(out, "\n$ %s %s\n", debuglogCommand, debuglog.CommandLine(args))
	var errs bytes.Buffer
	code := runDebuglog(args, out, io.MultiWriter(out, &errs))
	if code != 0 {
		return fmt.Errorf("debuglog %s: exit code %d: %s", args[0], code, strings.TrimSpace(errs.String()))
	}
	return nil
}

// explain prints what debuglog makes of the two systems' files: correlate's
// findings, the report, and the commands to go further. Each command names
// this run's sessions (--session), so that the runs before it in the same
// directory are not mixed in.
func explain(out io.Writer, logger *slogdebug.Logger, orchDir, orchSession string, poll time.Duration) error {
	session := logger.SessionID()
	if orchSession != "" && orchSession != session {
		session += "," + orchSession
	}
	dirs := []string{"--session", session, "--proxy", logger.Dir(), "--orch", orchDir}
	fmt.Fprintf(out, "\nthe fake orchestrator wrote its own debug files, in the real orchestrator's format, to %s\n", orchDir)
	if err := runShown(out, append([]string{"correlate", "--brief", "--poll", poll.String()}, dirs...)); err != nil {
		return err
	}
	report := filepath.Join(logger.Dir(), logger.SessionID()+"_report.html")
	if err := runShown(out, append(append([]string{"report", "--poll", poll.String()}, dirs...), "-o", report)); err != nil {
		return err
	}
	shown := func(args ...string) string { return debuglogCommand + " " + debuglog.CommandLine(args) }
	fmt.Fprintln(out, "\nnext:")
	fmt.Fprintf(out, "  xdg-open %s    # the report, in any browser: zoom, filter, click an event\n", debuglog.CommandLine([]string{report}))
	if tr, ok := requestTrace(logger); ok {
		fmt.Fprintf(out, "  go tool trace %s    # the runtime's view of the seconds before %s %s: its task, its goroutines\n",
			debuglog.CommandLine([]string{tr.path}), strings.ReplaceAll(tr.eventType, "_", " "), tr.requestID)
		fmt.Fprintf(out, "  %s    # that request's story, with its trace named\n", shown(append([]string{"request", tr.requestID}, dirs...)...))
	}
	for _, ev := range snapshotEvents(logger, goroutinesKey) {
		if ev.requestID != "" && ev.eventType == "slow_request" {
			fmt.Fprintf(out, "  %s    # where slow request %s's goroutine waited (its goroutine snapshot)\n", shown(append([]string{"request", ev.requestID}, dirs...)...), ev.requestID)
			break
		}
	}
	if id := refusedRequest(logger); id != "" {
		fmt.Fprintf(out, "  %s    # one request refused at once while provisioning was blocked, across both systems\n", shown(append([]string{"request", id}, dirs...)...))
	}
	if id := breakerRequest(logger); id != "" {
		fmt.Fprintf(out, "  %s    # one request that waited for the circuit breaker's ETA\n", shown(append([]string{"request", id}, dirs...)...))
	}
	fmt.Fprintf(out, "  %s    # every failed or slow request, explained (--all lists each)\n", shown(append([]string{"correlate", "--poll", poll.String()}, dirs...)...))
	fmt.Fprintf(out, "  %s    # requests by status, slow starts, stalls\n", shown("summary", "--session", session, logger.Dir(), orchDir))
	return nil
}

// refusedRequest is the request ID of the first provisioning that failed
// fast: a request answered 503 at once, its ETA beyond its patience.
func refusedRequest(logger *slogdebug.Logger) string {
	id := ""
	_, _ = eachLine(logger.Path("provisioning"), func(m map[string]any) {
		if s, _ := m["request_id"].(string); id == "" && m["operation"] == "provision_failed" && m["decision"] == "fail_fast" {
			id = s
		}
	})
	return id
}

// breakerRequest is the request ID of the proxy's first
// provisioning_circuit_breaker stress event whose request retried: one that
// waited for the breaker's ETA.
func breakerRequest(logger *slogdebug.Logger) string {
	id := ""
	_, _ = eachLine(logger.Path("stress"), func(m map[string]any) {
		if s, _ := m["request_id"].(string); id == "" && m["event_type"] == "provisioning_circuit_breaker" && m["decision"] == "retry" {
			id = s
		}
	})
	return id
}

// tracedEvent is a stress event whose line names a snapshot.
type tracedEvent struct {
	eventType, requestID, path string
}

// goroutinesKey names a stress line's goroutine snapshot.
const goroutinesKey = "goroutines"

// tracedEvents are the stress events with an execution trace snapshot.
func tracedEvents(logger *slogdebug.Logger) []tracedEvent {
	return snapshotEvents(logger, slogdebug.ExecutionTraceKey)
}

// snapshotEvents are the stress events whose line names a snapshot in key.
func snapshotEvents(logger *slogdebug.Logger, key string) []tracedEvent {
	var out []tracedEvent
	_, _ = eachLine(logger.Path("stress"), func(m map[string]any) {
		name, _ := m[key].(string)
		if name == "" {
			return
		}
		typ, _ := m["event_type"].(string)
		id, _ := m["request_id"].(string)
		out = append(out, tracedEvent{eventType: typ, requestID: id, path: filepath.Join(logger.Dir(), name)})
	})
	return out
}

// requestTrace is the first slow_request with an execution trace, or else
// the first traced event of a request (on a loaded machine a slow engine
// selection, say, may come first and take the cooldown's snapshot).
func requestTrace(logger *slogdebug.Logger) (tracedEvent, bool) {
	var first *tracedEvent
	for _, ev := range tracedEvents(logger) {
		if ev.requestID == "" {
			continue
		}
		if ev.eventType == "slow_request" {
			return ev, true
		}
		if first == nil {
			ev := ev
			first = &ev
		}
	}
	if first == nil {
		return tracedEvent{}, false
	}
	return *first, true
}

// summarize prints the session's files with their line counts and the
// stress events found, checking that every line decodes.
func summarize(out io.Writer, logger *slogdebug.Logger) error {
	paths, err := filepath.Glob(filepath.Join(logger.Dir(), logger.SessionID()+"_*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	fmt.Fprintf(out, "\nfiles in %s:\n", logger.Dir())
	events := map[string]int{}
	total := 0
	for _, p := range paths {
		n, err := eachLine(p, func(m map[string]any) {
			if m["category"] == "stress" {
				if t, ok := m["event_type"].(string); ok {
					events[t]++
				}
			}
		})
		if err != nil {
			return err
		}
		total += n
		fmt.Fprintf(out, "  %-44s %7d lines\n", filepath.Base(p), n)
	}
	st := logger.Stats()
	fmt.Fprintf(out, "  %d lines in %d files, every one valid JSON; %d records dropped, %d lost to write errors\n",
		total, len(paths), st.Dropped, st.Failed)

	types := make([]string, 0, len(events))
	for t := range events {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintf(out, "\nstress events found:\n")
	for _, t := range types {
		fmt.Fprintf(out, "  %-34s %4d\n", t, events[t])
	}
	if len(types) == 0 {
		fmt.Fprintln(out, "  none")
	}
	if traced := tracedEvents(logger); len(traced) > 0 {
		fmt.Fprintf(out, "\nexecution traces of the seconds before a stress event (%s):\n", slogdebug.ExecutionTraceKey)
		for _, ev := range traced {
			size := "missing"
			if st, err := os.Stat(ev.path); err == nil {
				size = fmt.Sprintf("%d KiB", st.Size()>>10)
			}
			fmt.Fprintf(out, "  %-44s %-24s %s\n", filepath.Base(ev.path)+" ("+size+")", ev.eventType, ev.requestID)
		}
		es := logger.ExecutionTraceStats()
		fmt.Fprintf(out, "  %d written, %d events skipped by the cooldown, %d failed\n", es.Snapshots-es.Failed, es.Skipped, es.Failed)
	}
	if snaps := snapshotEvents(logger, goroutinesKey); len(snaps) > 0 {
		fmt.Fprintf(out, "\ngoroutine snapshots, taken while a request or stream waited (%s):\n", goroutinesKey)
		for _, ev := range snaps {
			size := "missing"
			if st, err := os.Stat(ev.path); err == nil {
				size = fmt.Sprintf("%d KiB", st.Size()>>10)
			}
			fmt.Fprintf(out, "  %-44s %-24s %s\n", filepath.Base(ev.path)+" ("+size+")", ev.eventType, ev.requestID)
		}
	}
	return nil
}

// eachLine decodes every line of a file, failing on one that is not JSON.
func eachLine(path string, fn func(map[string]any)) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return n, fmt.Errorf("%s:%d: not valid JSON: %v", path, n, err)
		}
		fn(m)
	}
	return n, sc.Err()
}

// progress draws a progress bar on a terminal, or a line every tenth of
// the way elsewhere.
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	terminal bool
	last     time.Time
	lastPct  int
	phase    string
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, lastPct: -1}
	if f, ok := out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(done, total int64, phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pct := int(done * 100 / max(total, 1))
	if p.terminal {
		if time.Since(p.last) < 50*time.Millisecond && phase == p.phase {
			return
		}
		p.last, p.phase = time.Now(), phase
		const width = 40
		fill := min(width, pct*width/100)
		fmt.Fprintf(p.out, "\r[%s%s] %3d%% %5d/%d requests  %-22s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, done, total, phase)
		return
	}
	if pct/10 != p.lastPct/10 || phase != p.phase {
		p.lastPct, p.phase = pct, phase
		fmt.Fprintf(p.out, "  %3d%% %5d/%d requests  %s\n", pct, done, total, phase)
	}
}

func (p *progress) finish() {
	if p.terminal {
		fmt.Fprintln(p.out)
	}
}
