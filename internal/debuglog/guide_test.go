package debuglog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

// The guide, docs/DEBUG_MODE.md, is checked by running it: every jq query
// and debuglog command it shows that can run on files is marked, in the
// guide, by an HTML comment (invisible once rendered) just before its code
// block or inline code span:
//
//	<!-- check: FIXTURE [option...] -->
//
// FIXTURE is the directory the snippet runs in:
//
//   - demo: the demo's files (the scenario of make demo, scaled down in
//     time as TestDemoRuns runs it, thresholds with it): the proxy's in
//     debug_logs/, the fake orchestrator's in debug_logs/orchestrator/,
//     beside an earlier run's (two sessions in one directory, as after two
//     demo runs);
//   - incident: the incident of "Investigating an incident": the proxy's
//     files of writeProxyFiles in debug_logs/, the orchestrator's real
//     files (testdata/orchestrator-logs) in orchestrator_debug_logs/.
//
// Options:
//
//   - output: a console block's output, as shown (less the lines "..."),
//     is in what the command prints, line by line, in order;
//   - contains="TEXT": the output holds TEXT (stderr="TEXT": stderr does);
//   - match="REGEXP": the output matches REGEXP;
//   - contains.N=, stderr.N=, match.N=: the same, of the block's Nth
//     command only (from 1); a value may be quoted with ' or ";
//   - id=ID:KIND: the guide's ID is one of the demo's own, of a request of
//     KIND: slow (the first slow_request), refused (the first refused at
//     once, provision_failed with decision fail_fast), traced (the first
//     stress event with an execution trace), caught (the first stress
//     event of a request with a goroutine snapshot);
//   - session=ID: the guide's session ID is the demo's;
//   - sub=A:B: A is replaced with B (a threshold scaled down with the
//     demo: 5000 ms is its 400 ms, so the guide's 5000 runs as 500);
//   - trace: needs the execution trace (skipped where the Go that runs the
//     test cannot write one).
//
// Every snippet runs with the directory as it is named in the guide
// (debug_logs, /tmp/demo_logs and $DEBUG_LOG_DIR are the fixture's
// debug_logs): jq through sh, in the fixture's directory (skipped, saying
// why, where jq or sh is missing; .ci/run installs jq); debuglog in process
// (Run), its paths made the fixture's. A snippet must exit 0 and print
// something (a command with -o: write that file), and hold to its options.
//
// Not checked, and why (TestGuideMarksItsCommands lists what is left):
//
//   - installing or running programs: go run/go install ./cmd/debuglog,
//     make demo, docker compose, the proxy's configuration blocks (Go,
//     YAML, environment variables): they are not queries of files;
//   - curl to the admin endpoint (a live proxy; admin handler tests check
//     its answers) and kill -USR1;
//   - go tool trace and go tool pprof on an execution trace: the go tool,
//     seconds of work, and figures of one run (exectrace_test.go checks
//     that the trace holds the request's task);
//   - the demo's own output (TestDemoRuns checks it) and timeline --follow
//     (it runs until interrupted: follow_unix_test.go checks it);
//   - debuglog ship and the --clickhouse commands (they need a ClickHouse
//     server: ship_unix_test.go runs them, and the guide's SQL queries, on
//     the demo's files shipped);
//   - synopses with placeholders (DIR..., ID, P/O, FILE) in the table of
//     commands and the measurements of large inputs (minutes of work);
//   - jq filters quoted without their input: in prose (the same query runs
//     in full in the block of "Reading the files") and in the table of
//     "Migrating from the fork's debug logger", whose left column is the
//     fork's queries, wrong on these files by design.

// guideMarker is a check marker; its options are words, key=VALUE or
// key="VALUE".
var guideMarker = regexp.MustCompile(`<!-- check: (.*?) -->`)

var guideOption = regexp.MustCompile(`([\w.]+)(?:=("[^"]*"|'[^']*'|\S+))?`)

type guideSnippet struct {
	line     int
	fixture  string
	opts     map[string][]string
	commands []string // each with its output as shown (console blocks)
	outputs  [][]string
}

// guideSnippets reads the marked snippets of the guide.
func guideSnippets(t *testing.T, text string) []guideSnippet {
	t.Helper()
	var out []guideSnippet
	require.Equal(t, strings.Count(text, "<!-- check:"), len(guideMarker.FindAllStringIndex(text, -1)), "a check marker is on one line and ends with \" -->\"")
	for _, loc := range guideMarker.FindAllStringSubmatchIndex(text, -1) {
		s := guideSnippet{line: 1 + strings.Count(text[:loc[0]], "\n"), opts: map[string][]string{}}
		for i, m := range guideOption.FindAllStringSubmatch(text[loc[2]:loc[3]], -1) {
			if i == 0 {
				s.fixture = m[1]
				continue
			}
			s.opts[m[1]] = append(s.opts[m[1]], strings.Trim(m[2], `"'`))
		}
		rest := text[loc[1]:]
		switch {
		case strings.HasPrefix(rest, "\n```"):
			body := rest[4:]
			lang, body, _ := strings.Cut(body, "\n")
			body, _, ok := strings.Cut(body, "\n```")
			require.True(t, ok, "guide line %d: the block never ends", s.line)
			for _, l := range strings.Split(body, "\n") {
				switch {
				case lang == "console" && strings.HasPrefix(l, "$ "):
					s.commands = append(s.commands, l[2:])
					s.outputs = append(s.outputs, nil)
				case lang == "console":
					require.NotEmpty(t, s.commands, "guide line %d: output before a command", s.line)
					if l != "..." {
						s.outputs[len(s.outputs)-1] = append(s.outputs[len(s.outputs)-1], l)
					}
				case strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#"):
				default:
					s.commands = append(s.commands, l)
					s.outputs = append(s.outputs, nil)
				}
			}
		case strings.HasPrefix(rest, "`"):
			span, _, ok := strings.Cut(rest[1:], "`")
			require.True(t, ok, "guide line %d: the code span never ends", s.line)
			s.commands = []string{strings.Join(strings.Fields(span), " ")}
			s.outputs = [][]string{nil}
		default:
			t.Fatalf("guide line %d: a check marker must be followed by a code block (on the next line) or a code span", s.line)
		}
		require.NotEmpty(t, s.commands, "guide line %d", s.line)
		out = append(out, s)
	}
	return out
}

// guideFixtures are the directories the guide's snippets run in.
type guideFixtures struct {
	dirs       map[string]string // fixture name -> its directory
	session    string            // the demo's session: the proxy's, and the orchestrator's when it differs (A,B)
	ids        map[string]string // kind -> one of the demo's request IDs
	traceFiles bool
}

// writeGuideDemo runs the demo's scenario, scaled down in time as
// TestDemoRuns runs it, into root/debug_logs, beside an earlier run's files.
func writeGuideDemo(t *testing.T, root string, f *guideFixtures) {
	t.Helper()
	dir := filepath.Join(root, "debug_logs")
	orch := filepath.Join(dir, "orchestrator")
	require.NoError(t, os.MkdirAll(orch, 0o750))
	// An earlier run in the same directory: its session, a request.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20200101_000000_session.jsonl"), []byte(`{"session_id":"20200101_000000","timestamp":"2020-01-01T00:00:00.000000000Z","level":"INFO","category":"session","msg":"session_start","event":"session_start"}`+"\n"), 0o640))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20200101_000000_requests.jsonl"), []byte(`{"session_id":"20200101_000000","timestamp":"2020-01-01T00:00:01.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"req-earlier","method":"GET","path":"/ace/getstream","duration_ms":3.0,"ttfb_ms":3.0,"status_code":503}`+"\n"), 0o640))
	cfg := slogdebug.Config{Enabled: true, Dir: dir,
		SlowThresholds: map[string]time.Duration{"requests": 400 * time.Millisecond, "engine_selection": 300 * time.Millisecond},
		StallThreshold: 400 * time.Millisecond, Goroutines: true}
	if slogdebug.ExecutionTraceSupported() {
		cfg.ExecutionTrace = 10 * time.Second
		f.traceFiles = true
	}
	l, err := slogdebug.New(cfg, io.Discard)
	require.NoError(t, err)
	sc := &demoproxy.Scenario{Log: l, Requests: 100, Workers: 8, SlowStreamDuration: 600 * time.Millisecond, StallDuration: 600 * time.Millisecond,
		BreakerOpen: time.Second, SlowProvision: 400 * time.Millisecond, HealthInterval: 50 * time.Millisecond, OrchestratorDir: orch}
	report, err := sc.Run(context.Background())
	require.NoError(t, err)
	require.NoError(t, l.Close())
	f.session = l.SessionID()
	if o := report.OrchestratorSession; o != "" && o != f.session {
		// The fake orchestrator's files were begun in a later second (a
		// busy machine): --session names both, as make demo does.
		f.session += "," + o
	}
	eachJSONLine(t, l.Path("stress"), func(m map[string]any) {
		if id, _ := m["request_id"].(string); id != "" && f.ids["slow"] == "" && m["event_type"] == "slow_request" {
			f.ids["slow"] = id
		}
	})
	eachJSONLine(t, l.Path("provisioning"), func(m map[string]any) {
		if id, _ := m["request_id"].(string); id != "" && f.ids["refused"] == "" && m["operation"] == "provision_failed" && m["decision"] == "fail_fast" {
			f.ids["refused"] = id
		}
	})
	eachJSONLine(t, l.Path("stress"), func(m map[string]any) {
		if id, _ := m["request_id"].(string); id != "" && f.ids["traced"] == "" && m[slogdebug.ExecutionTraceKey] != nil {
			f.ids["traced"] = id
		}
		if id, _ := m["request_id"].(string); id != "" && f.ids["caught"] == "" && m[goroutinesKey] != nil {
			f.ids["caught"] = id
		}
	})
	require.NotEmpty(t, f.ids["caught"], "the demo has a request caught in a goroutine snapshot")
	require.NotEmpty(t, f.ids["slow"], "the demo has a slow request")
	require.NotEmpty(t, f.ids["refused"], "the demo has a request refused at once")
}

func eachJSONLine(t *testing.T, path string, fn func(map[string]any)) {
	t.Helper()
	file, err := os.Open(path)
	require.NoError(t, err)
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		fn(m)
	}
	require.NoError(t, sc.Err())
}

// writeGuideIncident copies the incident's files into root.
func writeGuideIncident(t *testing.T, root string) {
	t.Helper()
	for from, to := range map[string]string{writeProxyFiles(t): "debug_logs", orchDir: "orchestrator_debug_logs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, to), 0o750))
		entries, err := os.ReadDir(from)
		require.NoError(t, err)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(from, e.Name()))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(root, to, e.Name()), b, 0o640))
		}
	}
}

// TestGuideCommandsRun runs the guide's marked jq queries and debuglog
// commands on the demo's files and the incident's, and checks that they
// return what the guide says they do.
func TestGuideCommandsRun(t *testing.T) {
	b, err := os.ReadFile("../../docs/DEBUG_MODE.md")
	require.NoError(t, err)
	snippets := guideSnippets(t, string(b))
	require.NotEmpty(t, snippets)

	f := &guideFixtures{dirs: map[string]string{"demo": t.TempDir(), "incident": t.TempDir()}, ids: map[string]string{}}
	writeGuideDemo(t, f.dirs["demo"], f)
	writeGuideIncident(t, f.dirs["incident"])

	jqMissing := ""
	if _, err := exec.LookPath("jq"); err != nil {
		jqMissing = "jq is not installed (.ci/run installs it)"
	} else if _, err := exec.LookPath("sh"); err != nil {
		jqMissing = "no sh to run the guide's pipelines"
	}
	for _, s := range snippets {
		root, ok := f.dirs[s.fixture]
		require.True(t, ok, "guide line %d: unknown fixture %q", s.line, s.fixture)
		all := strings.Join(s.commands, "\n")
		for _, key := range []string{"id", "session", "sub"} {
			for _, v := range s.opts[key] {
				from, _, _ := strings.Cut(v, ":")
				assert.Contains(t, all, from, "guide line %d: %s=%s names what is in none of its commands", s.line, key, v)
			}
		}
		for i, cmd := range s.commands {
			t.Run(fmt.Sprintf("line_%d_%d", s.line, i), func(t *testing.T) {
				if _, ok := s.opts["trace"]; ok && !f.traceFiles {
					t.Skip("this Go cannot write an execution trace")
				}
				cmd = guideSubstitute(t, s, f, cmd)
				var stdout, stderr string
				switch {
				case strings.HasPrefix(cmd, "jq "):
					if jqMissing != "" {
						t.Skip(jqMissing)
					}
					if runtime.GOOS == "windows" {
						t.Skip("the guide's pipelines are for a POSIX shell")
					}
					var out, errOut bytes.Buffer
					c := exec.Command("sh", "-c", cmd)
					c.Dir, c.Stdout, c.Stderr = root, &out, &errOut
					require.NoError(t, c.Run(), "guide line %d: %s\n%s", s.line, cmd, errOut.String())
					stdout, stderr = out.String(), errOut.String()
					assert.NotEmpty(t, strings.TrimSpace(stdout), "guide line %d: %s returned nothing", s.line, cmd)
				case strings.HasPrefix(cmd, "debuglog "):
					args := guideArgs(t, root, strings.TrimPrefix(cmd, "debuglog "))
					var out, errOut bytes.Buffer
					code := Run(args, &out, &errOut)
					stdout, stderr = out.String(), errOut.String()
					require.Equal(t, 0, code, "guide line %d: %s\n%s", s.line, cmd, stderr)
					if o := outputFile(args); o != "" {
						fi, err := os.Stat(o)
						require.NoError(t, err, "guide line %d: %s", s.line, cmd)
						assert.Positive(t, fi.Size())
					} else {
						assert.NotEmpty(t, strings.TrimSpace(stdout), "guide line %d: %s printed nothing", s.line, cmd)
					}
				default:
					t.Fatalf("guide line %d: neither jq nor debuglog: %s", s.line, cmd)
				}
				if _, ok := s.opts["output"]; ok {
					assertShownOutput(t, s.line, s.outputs[i], stdout, stderr)
				}
				nth := "." + strconv.Itoa(i+1) // an option of this command only
				for _, want := range append(s.opts["contains"], s.opts["contains"+nth]...) {
					assert.Contains(t, stdout, want, "guide line %d: %s", s.line, cmd)
				}
				for _, want := range append(s.opts["stderr"], s.opts["stderr"+nth]...) {
					assert.Contains(t, stderr, want, "guide line %d: %s", s.line, cmd)
				}
				for _, re := range append(s.opts["match"], s.opts["match"+nth]...) {
					assert.Regexp(t, re, stdout, "guide line %d: %s", s.line, cmd)
				}
			})
		}
	}
}

// guideSubstitute makes the guide's IDs, session and thresholds the
// fixture's (each must be in one of the snippet's commands at least: see
// TestGuideCommandsRun).
func guideSubstitute(t *testing.T, s guideSnippet, f *guideFixtures, cmd string) string {
	t.Helper()
	for _, sub := range s.opts["id"] {
		from, kind, ok := strings.Cut(sub, ":")
		require.True(t, ok && f.ids[kind] != "", "guide line %d: id=%s", s.line, sub)
		cmd = strings.ReplaceAll(cmd, from, f.ids[kind])
	}
	for _, from := range s.opts["session"] {
		cmd = strings.ReplaceAll(cmd, from, f.session)
	}
	for _, sub := range s.opts["sub"] {
		from, to, ok := strings.Cut(sub, ":")
		require.True(t, ok, "guide line %d: sub=%s", s.line, sub)
		cmd = strings.ReplaceAll(cmd, from, to)
	}
	for _, dir := range []string{"/tmp/demo_logs", "$DEBUG_LOG_DIR"} {
		cmd = strings.ReplaceAll(cmd, dir, "debug_logs")
	}
	return cmd
}

// guideArgs splits a debuglog command line as sh would (the guide's quote
// only with ” and ""), and makes each path the fixture's.
func guideArgs(t *testing.T, root, line string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	quote, in := byte(0), false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ':
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	require.Zero(t, quote, "unbalanced quotes: %s", line)
	if in {
		args = append(args, cur.String())
	}
	for i, a := range args {
		first, _, _ := strings.Cut(a, "/")
		if first == "debug_logs" || first == "orchestrator_debug_logs" || (i > 0 && args[i-1] == "-o") {
			args[i] = filepath.Join(root, filepath.FromSlash(a))
		}
	}
	return args
}

func outputFile(args []string) string {
	for i, a := range args {
		if a == "-o" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// assertShownOutput checks that the lines a console block shows are
// printed, in that order (trailing spaces aside); "..." in the guide stands
// for lines left out.
func assertShownOutput(t *testing.T, line int, shown []string, stdout, stderr string) {
	t.Helper()
	got := strings.Split(stdout+stderr, "\n")
	next := 0
	for _, want := range shown {
		want = strings.TrimRight(want, " ")
		found := false
		for j := next; j < len(got); j++ {
			if strings.TrimRight(got[j], " ") == want {
				next, found = j+1, true
				break
			}
		}
		if !assert.True(t, found, "guide line %d shows a line that is not printed (or not there in this order):\n%s\n\nprinted:\n%s", line, want, stdout+stderr) {
			return
		}
	}
}

// guideUnchecked are the guide's commands on files that are not run, each
// by how it begins, and why (see the comment at the top).
var guideUnchecked = map[string]string{
	"debuglog timeline --follow":               "runs until interrupted (follow_unix_test.go)",
	"debuglog ship ":                           "needs a ClickHouse server, and runs until interrupted (ship_unix_test.go ships the demo's files and checks the store)",
	"go tool trace -d=parsed ":                 "the go tool on one run's trace (exectrace_test.go)",
	"go tool trace -pprof=net ":                "the go tool on one run's trace (exectrace_test.go)",
	"jq 'select(.status != \"healthy\")' *_":   "the fork's query, in the migration table",
	"jq '.duration' *_":                        "the fork's query, in the migration table",
	"jq 'select(.request_id == \"...\")' *":    "a placeholder ID, in the migration table; the same query runs in Reading the files",
	"jq 'select(.event == \"session_start\")'": "the migration table; session_start is read by every debuglog test",
	"jq . *_": "the fork's query, in the migration table",
}

// guideCommand is a whole command on files: jq or debuglog (or the go
// tool) with a file or directory argument.
var guideCommand = regexp.MustCompile(`^(\$ )?(jq|debuglog|go tool) .*(\.jsonl|\.trace|debug_logs|demo_logs)`)

// TestGuideMarksItsCommands: every whole command on files in the guide
// (in a code block or a code span) is checked by TestGuideCommandsRun, or
// is in guideUnchecked.
func TestGuideMarksItsCommands(t *testing.T) {
	b, err := os.ReadFile("../../docs/DEBUG_MODE.md")
	require.NoError(t, err)
	text := string(b)
	checked := map[string]bool{}
	for _, s := range guideSnippets(t, text) {
		for _, c := range s.commands {
			checked[c] = true
		}
	}
	var commands []string
	inBlock := false
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			if guideCommand.MatchString(l) {
				commands = append(commands, strings.TrimPrefix(l, "$ "))
			}
			continue
		}
	}
	// Code spans, outside blocks (a span may run over a line break; one
	// in double backticks shows a backtick).
	prose := regexp.MustCompile("(?s)```.*?```").ReplaceAllString(text, "")
	for _, m := range regexp.MustCompile("``.+?``|`([^`]+)`").FindAllStringSubmatch(prose, -1) {
		span := strings.Join(strings.Fields(m[1]), " ")
		if guideCommand.MatchString(span) {
			commands = append(commands, span)
		}
	}
	require.NotEmpty(t, commands)
	for _, c := range commands {
		if checked[c] {
			continue
		}
		why := ""
		for prefix, reason := range guideUnchecked {
			if strings.HasPrefix(c, prefix) {
				why = reason
			}
		}
		assert.NotEmpty(t, why, "the guide's command is neither checked (<!-- check: ... --> before it) nor in guideUnchecked:\n%s", c)
	}
}
