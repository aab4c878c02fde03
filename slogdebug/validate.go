package slogdebug

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/proxydebug/debugmode/handler"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/config"
)

// Validate reports every field out of range: the checks New makes.
func (c Config) Validate() error {
	if errs := c.problems(); len(errs) > 0 {
		return fmt.Errorf("slogdebug: bad configuration: %w", errors.Join(errs...))
	}
	return nil
}

func (c Config) problems() []error {
	out := optionErrors(c.handlerOptions().Validate())
	bad := func(field string, value any, want string) {
		out = append(out, &config.OptionError{Field: field, Value: value, Want: want})
	}
	// A zero duration is off or the default (zero says which).
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
	sel, wrong := newSelection(c.Categories, c.OrchestratorCalls)
	for _, want := range wrong {
		bad("Categories", strings.Join(c.Categories, ","), want)
	}
	if c.OrchestratorCalls && len(wrong) == 0 && !sel.selected(category.OrchestratorCalls) {
		bad("OrchestratorCalls", true, "false while Categories leaves orchestrator_calls out")
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
	if c.StallThreshold > 0 && (c.StallThreshold < config.MinStallThreshold || c.StallThreshold > config.MaxStallThreshold) {
		bad("StallThreshold", c.StallThreshold, fmt.Sprintf("0 (the default, %v), less than 0 (off) or %v to %v",
			config.DefaultStallThreshold, config.MinStallThreshold, config.MaxStallThreshold))
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
	if c.Goroutines && c.DisableStress {
		bad("Goroutines", c.Goroutines, "false while stress detection is off (DisableStress): only a stress event writes a snapshot")
	}
	duration("ExecutionTraceCooldown", c.ExecutionTraceCooldown, config.MinExecutionTraceCooldown, config.MaxExecutionTraceCooldown, "the default, 1m")
	return out
}

func optionErrors(err error) (out []error) {
	switch e := err.(type) {
	case *config.OptionError:
		return append(out, e)
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			out = append(out, optionErrors(inner)...)
		}
	case interface{ Unwrap() error }:
		return optionErrors(e.Unwrap())
	}
	return out
}

func checkCategoryName(cat string) string {
	if cat == "" || handler.SanitizeCategory(cat) != cat {
		return fmt.Sprintf("a category as the files name it (lower-case ASCII letters, digits, '_' and '-'), such as %s", quote(handler.SanitizeCategory(cat)))
	}
	builtin := category.Builtin()
	if near := closest(cat, builtin, 2); near != "" && !slices.Contains(builtin, cat) {
		return fmt.Sprintf("a category; did you mean %q? (built-in categories: %s; a category of your own must not be a letter or two off one)", near, strings.Join(builtin, ", "))
	}
	return ""
}

const maxSuggestLen = 64 // the longest name a suggestion is looked for

// closest returns the name nearest to s within maxDist edits (or containment), or "".
func closest(s string, names []string, maxDist int) string {
	if len(s) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", maxDist+1
	for _, n := range names {
		if d := editDistance(s, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best != "" {
		return best
	}
	for _, n := range names {
		if strings.Contains(n, s) || strings.Contains(s, n) {
			return n
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := prev[j-1]
			if a[i-1] != b[j-1] {
				cost++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func executionTraceNeedsGo125() string {
	return "the execution trace recorder needs a program built with Go 1.25 or newer (runtime/trace.FlightRecorder); this one is built with " + runtime.Version()
}
