package handler

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/proxydebug/debugmode/internal/tracefile"
)

func TestParseFileName(t *testing.T) {
	for name, want := range map[string][]fileName{
		"20200101_000000_requests.jsonl":            {{session: "20200101_000000", segment: 0, category: "requests"}},
		"20200101_000000_2_requests.jsonl":          {{session: "20200101_000000_2", segment: 0, category: "requests"}},
		"20200101_000000.001_requests.jsonl":        {{session: "20200101_000000", segment: 1, category: "requests"}},
		"20200101_000000_2.1000_requests.jsonl":     {{session: "20200101_000000_2", segment: 1000, category: "requests"}},
		"proxy_2_requests.jsonl":                    {{session: "proxy_2", segment: 0, category: "requests"}},
		"proxy_engine_selection.jsonl":              {{session: "proxy", segment: 0, category: "engine_selection"}, {session: "proxy_engine", segment: 0, category: "selection"}},
		"proxy.002_engine_selection.jsonl":          {{session: "proxy", segment: 2, category: "engine_selection"}},
		"My-Proxy__x.jsonl":                         {{session: "My-Proxy", segment: 0, category: "_x"}, {session: "My-Proxy_", segment: 0, category: "x"}},
		"proxy_2.jsonl":                             nil, // a category never starts with a digit
		"proxy.01_requests.jsonl":                   nil, // segments have three digits or more
		"proxy.0001_requests.jsonl":                 nil,
		"proxy.000_requests.jsonl":                  nil,
		"proxy_requests.jsonl.new":                  nil,
		"notes.jsonl":                               nil,
		"a b_requests.jsonl":                        nil,
		"_requests.jsonl":                           nil,
		"proxy_Requests.jsonl":                      nil,
		"20200101_000000_execution_trace_001.trace": {{session: "20200101_000000", segment: 1, trace: true}},
		"proxy_execution_trace_1000.trace":          {{session: "proxy", segment: 1000, trace: true}},
		"proxy_execution_trace_01.trace":            nil,
		"proxy_execution_trace_000.trace":           nil,
		"_execution_trace_001.trace":                nil,
		"proxy_requests.trace":                      nil,
		"proxy_execution_trace_001.trace.tmp":       nil,
	} {
		assert.Equal(t, want, parseFileName(name), name)
	}
	assert.Equal(t, "s.001_c.jsonl", segmentName("s", 1, "c"))
	assert.Equal(t, "s.1000_c.jsonl", segmentName("s", 1000, "c"))
	assert.Equal(t, "s_execution_trace_001.trace", tracefile.Name("s", 1))
	for _, n := range []int{1, 999, 1000, 123456} {
		assert.Equal(t, []fileName{{session: "s", segment: n, category: "c"}}, parseFileName(segmentName("s", n, "c")))
	}
}

func TestSessionIDOrder(t *testing.T) {
	assert.True(t, isStartTimeID("20200101_000000"))
	assert.True(t, isStartTimeID("20200101_000000_10"))
	for _, id := range []string{"20200101_00000", "20200101_000000_1", "20200101_000000_02", "20200101_000000_x", "2020010a_000000", "proxy"} {
		assert.False(t, isStartTimeID(id), id)
	}
	assert.Negative(t, compareSessionIDs("20200101_000000_2", "20200101_000000_10"))
	assert.Negative(t, compareSessionIDs("20200101_000000", "20200101_000000_2"))
	assert.Negative(t, compareSessionIDs("20200101_000000_99", "20200102_000000"))
}

// FuzzParseFileName: any name parses without panicking; every reading it
// gives names that file again; and a name this package makes from a valid
// session ID, a segment number and any category (sanitised) is read back
// with exactly those parts among its readings (segments: as its only one).
func FuzzParseFileName(f *testing.F) {
	f.Add("proxy", 0, "requests", "proxy_2_requests.jsonl")
	f.Add("20261126_101715_2", 12, "engine_selection", "s.1000_c.jsonl")
	f.Add("a.b", 1000, "_x", "x.001_.jsonl")
	f.Fuzz(func(t *testing.T, session string, segment int, category, name string) {
		for _, r := range parseFileName(name) {
			if again := r.name(); again != name {
				t.Fatalf("%q read as %+v, which names %q", name, r, again)
			}
		}
		if !validSessionID(session) || segment < 0 || segment > 999999999 {
			return
		}
		cat := SanitizeCategory(category)
		made := liveName(session, cat)
		if segment > 0 {
			made = segmentName(session, segment, cat)
		}
		readings := parseFileName(made)
		want := fileName{session: session, segment: segment, category: cat}
		found := false
		for _, r := range readings {
			found = found || r == want
		}
		if !found {
			t.Fatalf("%q made from %+v, read as %+v", made, want, readings)
		}
		if segment > 0 && len(readings) != 1 {
			t.Fatalf("segment %q has %d readings: %+v", made, len(readings), readings)
		}
		if segment > 0 {
			snapshot := tracefile.Name(session, segment)
			want := []fileName{{session: session, segment: segment, trace: true}}
			if got := parseFileName(snapshot); !reflect.DeepEqual(got, want) {
				t.Fatalf("trace snapshot %q read as %+v, want %+v", snapshot, got, want)
			}
		}
	})
}

// name is the file name the reading reads.
func (f fileName) name() string {
	switch {
	case f.trace:
		return tracefile.Name(f.session, f.segment)
	case f.segment > 0:
		return segmentName(f.session, f.segment, f.category)
	}
	return liveName(f.session, f.category)
}
