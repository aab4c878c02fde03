package integration_test

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/proxydebug/debugmode/integration"
)

// FuzzAceID checks AceID against what it shortcuts: url.ParseQuery's first
// id, else its first infohash.
func FuzzAceID(f *testing.F) {
	for _, q := range []string{"id=0123abcd", "infohash=ff&id=", "id=&infohash=ff", "a=1&id=x&id=y", "id=a%20b", "id=a+b",
		"x;y=1&id=z", "id", "=&&id=v=w", "ID=up&id=low", "infohash=%zz&id=ok", ""} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := &http.Request{URL: &url.URL{Path: "/ace/getstream", RawQuery: raw}}
		q, _ := url.ParseQuery(raw)
		if got, want := integration.AceID(r), cmp.Or(q.Get("id"), q.Get("infohash")); got != want {
			t.Fatalf("AceID(%q) = %q, want %q", raw, got, want)
		}
	})
}

// A query past ParseQuery's limit on the number of parameters is refused
// whole: AceID's answer is ParseQuery's there too. The limit is the
// program's (GODEBUG urlmaxqueryparams: 10,000 by default for a main
// module of go 1.24 or later, none for this module's go 1.22).
func TestAceIDIsParseQuerysPastItsParameterLimit(t *testing.T) {
	t.Setenv("GODEBUG", "urlmaxqueryparams=10000")
	for _, n := range []int{9999, 10000, 10001, 20000} {
		raw := strings.Repeat("a=1&", n-1) + "id=abc"
		r := &http.Request{URL: &url.URL{Path: "/ace/getstream", RawQuery: raw}}
		q, _ := url.ParseQuery(raw)
		if got, want := integration.AceID(r), q.Get("id"); got != want {
			t.Errorf("%d parameters: AceID = %q, want ParseQuery's %q", n, got, want)
		}
	}
}
