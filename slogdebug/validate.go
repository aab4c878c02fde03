package slogdebug

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/stress"
)

// Bounds of the Config fields the handler package does not bound itself.
const (
	// MinFlightRecorder and MaxFlightRecorder bound FlightRecorder when it
	// is on.
	MinFlightRecorder = time.Second
	MaxFlightRecorder = 24 * time.Hour
	// MinFlightRecorderBytes and MaxFlightRecorderBytes bound
	// FlightRecorderBytes when it is set.
	MinFlightRecorderBytes = 64 << 10
	MaxFlightRecorderBytes = 1 << 30
	// MaxStressCooldown bounds StressCooldown.
	MaxStressCooldown = 24 * time.Hour
)

// fieldProblem is a Config field out of range: its name, its value and
// what is accepted (naming other fields by their Config names).
type fieldProblem struct {
	field string
	value any
	want  string
}

func (p fieldProblem) Error() string {
	if s, ok := p.value.(string); ok {
		return fmt.Sprintf("%s %s: want %s", p.field, quote(s), p.want)
	}
	return fmt.Sprintf("%s %v: want %s", p.field, p.value, p.want)
}

// Validate reports every field of c that is out of range, each naming the
// field, the value and what is accepted, all at once: the checks New makes
// (and switching debug mode on would make), so that a bad configuration is
// found at start-up, not during an incident. ConfigFromEnv makes the same
// checks, naming the variables; it also checks that the log directory is
// usable, which Validate (no I/O) does not.
func (c Config) Validate() error {
	problems := c.problems()
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return fmt.Errorf("slogdebug: bad configuration: %w", errors.Join(errs...))
}

// problems lists the fields of c that are out of range, in field order.
func (c Config) problems() []fieldProblem {
	var out []fieldProblem
	bad := func(field string, value any, want string) {
		out = append(out, fieldProblem{field, value, want})
	}
	// The category handler's options: its own rules.
	for _, oe := range optionErrors(c.handlerOptions().Validate()) {
		bad(oe.Field, oe.Value, oe.Want)
	}
	if c.FlightRecorder != 0 && (c.FlightRecorder < MinFlightRecorder || c.FlightRecorder > MaxFlightRecorder) {
		bad("FlightRecorder", c.FlightRecorder, fmt.Sprintf("0 (off) or %v to %v", MinFlightRecorder, MaxFlightRecorder))
	}
	if c.FlightRecorderBytes != 0 && (c.FlightRecorderBytes < MinFlightRecorderBytes || c.FlightRecorderBytes > MaxFlightRecorderBytes) {
		bad("FlightRecorderBytes", c.FlightRecorderBytes, fmt.Sprintf("0 (the default, 16MiB) or %d to %d bytes", MinFlightRecorderBytes, MaxFlightRecorderBytes))
	}
	for _, want := range checkCategories(c.Categories) {
		bad("Categories", strings.Join(c.Categories, ","), want)
	}
	cats := make([]string, 0, len(c.SlowThresholds))
	for cat := range c.SlowThresholds {
		cats = append(cats, cat)
	}
	sort.Strings(cats)
	for _, cat := range cats {
		if want := checkCategoryName(cat); want != "" {
			bad("SlowThresholds", cat, want)
		}
	}
	for _, r := range []struct {
		field string
		rate  stress.Rate
	}{{"SlowRequestRate", c.SlowRequestRate}, {"ProvisioningFailureRate", c.ProvisioningFailureRate}} {
		if r.rate == (stress.Rate{}) {
			continue // the default
		}
		if err := r.rate.Validate(); err != nil {
			bad(r.field, r.rate, strings.TrimPrefix(err.Error(), "want "))
		}
	}
	if c.StressCooldown > MaxStressCooldown {
		bad("StressCooldown", c.StressCooldown, fmt.Sprintf("at most %v", MaxStressCooldown))
	}
	switch {
	case c.ExecutionTrace == 0:
	case !executionTraceSupported && c.ExecutionTrace > 0:
		bad("ExecutionTrace", c.ExecutionTrace, "0 (off): "+executionTraceNeedsGo125())
	case c.ExecutionTrace < MinExecutionTrace || c.ExecutionTrace > MaxExecutionTrace:
		bad("ExecutionTrace", c.ExecutionTrace, fmt.Sprintf("0 (off) or %v to %v", MinExecutionTrace, MaxExecutionTrace))
	case c.DisableStress:
		bad("ExecutionTrace", c.ExecutionTrace, "0 (off) while stress detection is off (DEBUG_STRESS=false, DisableStress): only a stress event writes a snapshot")
	}
	if c.ExecutionTraceBytes != 0 && (c.ExecutionTraceBytes < MinExecutionTraceBytes || c.ExecutionTraceBytes > MaxExecutionTraceBytes) {
		bad("ExecutionTraceBytes", c.ExecutionTraceBytes, fmt.Sprintf("0 (the default, 16MiB) or %d to %d bytes", MinExecutionTraceBytes, MaxExecutionTraceBytes))
	}
	if c.ExecutionTraceCooldown != 0 && (c.ExecutionTraceCooldown < MinExecutionTraceCooldown || c.ExecutionTraceCooldown > MaxExecutionTraceCooldown) {
		bad("ExecutionTraceCooldown", c.ExecutionTraceCooldown, fmt.Sprintf("0 (the default, 1m) or %v to %v", MinExecutionTraceCooldown, MaxExecutionTraceCooldown))
	}
	return out
}

// optionErrors collects the *handler.OptionError in err's tree.
func optionErrors(err error) []*handler.OptionError {
	var out []*handler.OptionError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *handler.OptionError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// checkCategories returns what is wrong with a selection of categories
// (Config.Categories), each problem once.
func checkCategories(spec []string) []string {
	var out []string
	only, without := 0, 0
	for _, item := range spec {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, out2 := strings.CutPrefix(item, "-")
		name = strings.TrimSpace(name)
		if out2 {
			without++
		} else {
			only++
		}
		if name == category.Session {
			out = append(out, fmt.Sprintf("categories other than %q (its file is always written)", name))
			continue
		}
		if want := checkCategoryName(name); want != "" {
			out = append(out, fmt.Sprintf("%s (in %s)", want, quote(item)))
		}
	}
	if only > 0 && without > 0 {
		out = append(out, "either the categories to write (requests,errors) or those to leave out, each with a leading - (-orchestrator_calls), not both")
	}
	return out
}

// checkCategoryName returns what is wrong with a category of
// SlowThresholds ("" if nothing): it must be written as the files name
// categories, and a name a letter or two off a built-in category is taken
// for a typo of it. Any other name is a category of the program's own.
func checkCategoryName(cat string) string {
	if cat == "" || handler.SanitizeCategory(cat) != cat {
		return fmt.Sprintf("a category as the files name it (lower-case ASCII letters, digits, '_' and '-'), such as %s", quote(handler.SanitizeCategory(cat)))
	}
	builtin := category.Builtin()
	for _, known := range builtin {
		if cat == known {
			return ""
		}
	}
	if near := closest(cat, builtin, 2); near != "" {
		return fmt.Sprintf("a category; did you mean %q? (built-in categories: %s; a category of your own must not be a letter or two off one)", near, strings.Join(builtin, ", "))
	}
	return ""
}

// maxSuggestLen is the longest name a suggestion is looked for: longer
// ones are no typo of a known name (and would cost).
const maxSuggestLen = 64

// closest returns the name of names nearest to s, if it is within
// maxDist edits (or one contains the other), or "".
func closest(s string, names []string, maxDist int) string {
	if len(s) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", maxDist+1
	for _, n := range names {
		d := editDistance(s, n)
		if d < bestDist || d == bestDist && best == "" {
			best, bestDist = n, d
		}
	}
	if bestDist <= maxDist {
		return best
	}
	for _, n := range names {
		if strings.Contains(n, s) || strings.Contains(s, n) {
			return n
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// executionTraceNeedsGo125 says why Config.ExecutionTrace cannot be on in
// a program built with a Go older than 1.25.
func executionTraceNeedsGo125() string {
	return "the execution trace recorder needs a program built with Go 1.25 or newer (runtime/trace.FlightRecorder); this one is built with " + runtime.Version()
}
