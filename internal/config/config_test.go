package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRate(t *testing.T) {
	r, err := ParseRate("10/1m")
	require.NoError(t, err)
	assert.Equal(t, Rate{Count: 10, Window: time.Minute}, r)
	r, err = ParseRate("65535/1h")
	require.NoError(t, err)
	assert.Equal(t, Rate{Count: MaxRateCount, Window: time.Hour}, r)
	for _, bad := range []string{"", "10", "x/1m", "0/1m", "5/-1s", "5/forever", "65536/1m"} {
		_, err := ParseRate(bad)
		assert.ErrorContains(t, err, "want ", bad)
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10/1m", "5/30s", "", "/", "0/1m", "1/0s", "9999999999999999999/1h", "3/1m/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Count < 1 || r.Count > MaxRateCount || r.Window <= 0 {
			t.Fatalf("ParseRate(%q) = %+v without an error", s, r)
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q).String() = %q does not parse back: %+v, %v", s, r.String(), back, err)
		}
	})
}
