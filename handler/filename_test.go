package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseFileName(t *testing.T) {
	for name, want := range map[string][]fileName{
		"20200101_000000_requests.jsonl":        {{"20200101_000000", 0, "requests"}},
		"20200101_000000_2_requests.jsonl":      {{"20200101_000000_2", 0, "requests"}},
		"20200101_000000.001_requests.jsonl":    {{"20200101_000000", 1, "requests"}},
		"20200101_000000_2.1000_requests.jsonl": {{"20200101_000000_2", 1000, "requests"}},
		"proxy_2_requests.jsonl":                {{"proxy_2", 0, "requests"}},
		"proxy_engine_selection.jsonl":          {{"proxy", 0, "engine_selection"}, {"proxy_engine", 0, "selection"}},
		"proxy.002_engine_selection.jsonl":      {{"proxy", 2, "engine_selection"}},
		"My-Proxy__x.jsonl":                     {{"My-Proxy", 0, "_x"}, {"My-Proxy_", 0, "x"}},
		"proxy_2.jsonl":                         nil, // a category never starts with a digit
		"proxy.01_requests.jsonl":               nil, // segments have three digits or more
		"proxy.0001_requests.jsonl":             nil,
		"proxy.000_requests.jsonl":              nil,
		"proxy_requests.jsonl.new":              nil,
		"notes.jsonl":                           nil,
		"a b_requests.jsonl":                    nil,
		"_requests.jsonl":                       nil,
		"proxy_Requests.jsonl":                  nil,
	} {
		assert.Equal(t, want, parseFileName(name), name)
	}
	assert.Equal(t, "s.001_c.jsonl", segmentName("s", 1, "c"))
	assert.Equal(t, "s.1000_c.jsonl", segmentName("s", 1000, "c"))
	for _, n := range []int{1, 999, 1000, 123456} {
		assert.Equal(t, []fileName{{"s", n, "c"}}, parseFileName(segmentName("s", n, "c")))
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
			again := liveName(r.session, r.category)
			if r.segment > 0 {
				again = segmentName(r.session, r.segment, r.category)
			}
			if again != name {
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
	})
}
