// Package debuglog is the debuglog command (cmd/debuglog): it gets answers
// out of debug-mode files, this library's and the orchestrator's, across
// both systems. It is a package so that the demo can print its findings
// in-process; Run is the whole command.
//
// Files are read as streams: memory stays bounded whatever their size (see
// each command for what it keeps). Only regular files are read. Malformed
// input (a partial last line, a garbage line, an over-long line, a FIFO, a
// symlink loop, an unreadable file) is reported on stderr, as file:line
// where it is a line, and skipped.
//
// Exit codes: 0 done (warnings do not change it); 1 the command failed
// (no readable files, the output cannot be written); 2 usage error; 130
// interrupted by SIGINT or SIGTERM (timeline --follow and ship: 0, their
// normal end).
package debuglog

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// errUsage marks a usage error (exit code 2).
var errUsage = errors.New("usage")

// commands are debuglog's commands, in the order -h lists them: usage is
// made from this table, so no command can be left out of it.
var commands = []struct {
	name, synopsis, what string
	run                  func(ctx context.Context, args []string, out io.Writer, warn *warner) error
}{
	{"summary", "summary [--session ID] DIR... | --clickhouse URL", "per session: requests by status code, slow starts, stalls; per category: lines, durations, stress events, errors", cmdSummary},
	{"correlate", "correlate --proxy DIR --orch DIR | --clickhouse URL [--session ID] [--brief] [--all] [--json]", "each proxy effect (stress event, failed or slow request) with its likely orchestrator causes", cmdCorrelate},
	{"request", "request ID [--session ID] [--proxy DIR] [--orch DIR] [DIR...] | --clickhouse URL", "everything one request did across both systems, gaps measured, with its causes", cmdRequest},
	{"timeline", "timeline [--session ID] [--category C,...] [--since T] [--until T] [--grep TEXT] [--follow] [DIR...]", "both systems' events merged in time order", cmdTimeline},
	{"report", "report [--session ID] [--proxy DIR] [--orch DIR] [DIR...] | --clickhouse URL -o report.html", "a self-contained HTML page to explore both systems", cmdReport},
	{"ship", "ship --clickhouse URL [--host NAME] [--checkpoint FILE] [--once] DIR...", "follow both systems' files and store every line once in ClickHouse (summary, correlate, request and report read it with --clickhouse URL)", cmdShip},
}

// usage is debuglog -h.
var usage = func() string {
	var b strings.Builder
	b.WriteString("debuglog: get answers out of debug-mode files (this library's and the orchestrator's)\n\nusage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  debuglog %s\n      %s\n", c.synopsis, c.what)
	}
	b.WriteString(`
DIR holds <session>_<category>.jsonl files; which system wrote them is guessed per file
(or given by --proxy/--orch). --session ID (repeatable, or comma-separated) reads only
those sessions; without it every session found is read, with a warning when several of
one system's are mixed. Times T are RFC 3339 (2026-11-26T10:17:16Z) or a clock time of
the day of the first event (10:17:16). With --clickhouse URL in place of directories,
summary, correlate, request and report read the store debuglog ship fills (--host NAME,
repeatable, picks machines; --since and --until, RFC 3339, a time range).
debuglog COMMAND -h describes a command and its flags.

exit codes: 0 done, 1 failed, 2 usage error, 130 interrupted (SIGINT, SIGTERM; timeline --follow
and ship: 0, their normal end)
`)
	return b.String()
}()

// Run executes a debuglog command line (without the program name) and
// returns its exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	return RunContext(context.Background(), args, stdout, stderr)
}

// RunContext is Run until ctx ends: then the command stops where it is
// (a read that does not return is abandoned) and the exit code is 130,
// interrupted, or 0 for timeline --follow, which runs until then.
func RunContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

// Main is the debuglog command: the command line, stdout and stderr of the
// process; SIGINT and SIGTERM stop it (see RunContext).
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, args, os.Stdout, os.Stderr)
}

// exitInterrupted is the exit code of a command stopped by a signal
// (128 + SIGINT, as shells report it).
const exitInterrupted = 130

// run executes a command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 2 && args[0] == "help" { // debuglog help CMD
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		if len(args) == 0 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	warn := newWarner(stderr)
	err := fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	for _, c := range commands {
		if c.name == args[0] {
			err = c.run(ctx, args[1:], stdout, warn)
		}
	}
	warn.finish()
	var ue *usageErr
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp) && errors.As(err, &ue):
		fmt.Fprint(stdout, ue.help())
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "debuglog %s: %s\n\n%s", ue.fs.Name(), safeText(ue.msg), ue.help())
		return 2
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		fmt.Fprintln(stderr, "debuglog: interrupted (SIGINT or SIGTERM) before it finished; nothing more was read or written")
		return exitInterrupted
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "debuglog: %s\n\n", safeText(err.Error()))
		fmt.Fprint(stderr, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "debuglog: %s\n", safeText(err.Error()))
		return 1
	}
}

// usageTexts holds each command's usage, by flag set name.
var usageTexts = map[string]string{}

// newFlags returns a command's flag set; text is its usage, printed
// (with the flags) by -h and after a usage error.
func newFlags(name, text string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	usageTexts[name] = text
	return fs
}

// usageErr is a usage error of one command (exit code 2), or its -h.
type usageErr struct {
	fs  *flag.FlagSet
	msg string
	err error
}

func (e *usageErr) Error() string { return e.msg }
func (e *usageErr) Unwrap() error { return e.err }

// help is the command's usage and flags.
func (e *usageErr) help() string {
	var b strings.Builder
	b.WriteString(usageTexts[e.fs.Name()])
	e.fs.SetOutput(&b)
	e.fs.PrintDefaults()
	e.fs.SetOutput(io.Discard)
	return b.String()
}

// usageError is a usage error of the command whose flags are fs.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	return &usageErr{fs: fs, msg: fmt.Sprintf(format, args...), err: errUsage}
}

// parseFlags parses args, allowing flags after the positional arguments
// (debuglog report DIR -o x.html), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &usageErr{fs: fs, msg: "help", err: flag.ErrHelp}
			}
			return nil, &usageErr{fs: fs, msg: err.Error(), err: errUsage}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// inputs gathers the files of positional DIRs (system guessed) and of
// --proxy/--orch DIRs.
func inputs(ctx context.Context, fset *flag.FlagSet, pos []string, proxy, orch stringList, warn *warner) ([]file, error) {
	var all []file
	if len(pos) > 0 {
		fs, err := findFiles(ctx, pos, "", warn)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	for _, set := range []struct {
		dirs   stringList
		system string
	}{{proxy, systemProxy}, {orch, systemOrch}} {
		if len(set.dirs) > 0 {
			fs, err := findFiles(ctx, set.dirs, set.system, warn)
			if err != nil {
				return nil, err
			}
			all = append(all, fs...)
		}
	}
	if len(all) == 0 {
		return nil, usageError(fset, "no directories given")
	}
	return all, nil
}

// stringList is a repeatable string flag.
type stringList []string

// dirFlags adds to fs the repeatable --proxy and --orch flags, the
// directories of each system's files, into proxy and orch.
func dirFlags(fs *flag.FlagSet, proxy, orch *stringList) {
	fs.Var(proxy, "proxy", "a directory of the proxy's files (repeatable)")
	fs.Var(orch, "orch", "a directory of the orchestrator's files (repeatable)")
}

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
