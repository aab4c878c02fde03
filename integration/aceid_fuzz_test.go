package integration_test

import (
	"cmp"
	"net/http"
	"net/url"
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
