package slogdebug

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
)

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
func (c Config) problems() []*config.OptionError {
	// The category handler's options: its own rules.
	out := optionErrors(c.handlerOptions().Validate())
	bad := func(field string, value any, want string) {
		out = append(out, &config.OptionError{Field: field, Value: value, Want: want})
	}
	// A zero duration is off or the default (zero says which); it reports
	// whether d is out of range.
	duration := func(field string, d, lo, hi time.Duration, zero string) bool {
		if d != 0 && (d < lo || d > hi) {
			bad(field, d, fmt.Sprintf("0 (%s) or %v to %v", zero, lo, hi))
			return true
		}
		return false
	}
	size := func(field string, n, lo, hi int) {
		if n != 0 && (n < lo || n > hi) {
			bad(field, n, fmt.Sprintf("0 (the default, 16MiB) or %d to %d bytes", lo, hi))
		}
	}
	duration("FlightRecorder", c.FlightRecorder, config.MinFlightRecorder, config.MaxFlightRecorder, "off")
	size("FlightRecorderBytes", c.FlightRecorderBytes, config.MinFlightRecorderBytes, config.MaxFlightRecorderBytes)
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
	for _, r := range []struct{ field, rate string }{{"SlowRequestRate", c.SlowRequestRate}, {"ProvisioningFailureRate", c.ProvisioningFailureRate}} {
		if _, err := parseRate(r.rate); r.rate != "" && err != nil { // "": the default
			bad(r.field, r.rate, strings.TrimPrefix(err.Error(), "want "))
		}
	}
	if c.StressCooldown > config.MaxStressCooldown {
		bad("StressCooldown", c.StressCooldown, fmt.Sprintf("at most %v", config.MaxStressCooldown))
	}
	if c.ExecutionTrace > 0 && !executionTraceSupported {
		bad("ExecutionTrace", c.ExecutionTrace, "0 (off): "+executionTraceNeedsGo125())
	} else if !duration("ExecutionTrace", c.ExecutionTrace, config.MinExecutionTrace, config.MaxExecutionTrace, "off") &&
		c.ExecutionTrace != 0 && c.DisableStress {
		bad("ExecutionTrace", c.ExecutionTrace, "0 (off) while stress detection is off (DisableStress): only a stress event writes a snapshot")
	}
	size("ExecutionTraceBytes", c.ExecutionTraceBytes, config.MinExecutionTraceBytes, config.MaxExecutionTraceBytes)
	duration("ExecutionTraceCooldown", c.ExecutionTraceCooldown, config.MinExecutionTraceCooldown, config.MaxExecutionTraceCooldown, "the default, 1m")
	return out
}

// optionErrors collects the *config.OptionError in err's tree.
func optionErrors(err error) []*config.OptionError {
	var out []*config.OptionError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *config.OptionError:
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
