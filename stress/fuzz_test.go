package stress

import "testing"

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10/1m", "5/30s", "", "/", "0/1m", "1/0s", "9999999999999999999/1h", "3/1m/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Count < 1 || r.Window <= 0 {
			t.Fatalf("ParseRate(%q) = %+v without an error", s, r)
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q).String() = %q does not parse back: %+v, %v", s, r.String(), back, err)
		}
	})
}
