package handler

import (
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/config"
)

// TestPlainText compares the word-at-a-time scan with a byte loop for every
// byte value at every position of every length up to 20 (short strings,
// whole words, and a last word that overlaps the one before).
func TestPlainText(t *testing.T) {
	slow := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= utf8.RuneSelf || !safe[c] || c == '=' || c == ':' {
				return false
			}
		}
		return true
	}
	for b := range 256 {
		for pos := range 20 {
			buf := []byte("abcdefghijklmnopqrstuvwxyz")[:20]
			buf[pos] = byte(b)
			for n := pos + 1; n <= 20; n++ {
				s := string(buf[:n])
				require.Equal(t, slow(s), plainText(s), "byte %#x at %d of %d", b, pos, n)
			}
		}
	}
}

// TestKeyCacheWritesWhatTheEncoderWrites encodes the same attributes with
// and without the writer's key cache, over and over, with keys that are
// equal but not the same string, secret keys (a secret duration has no
// _ms), keys that need escaping, long keys, and more keys than the cache
// has slots: the lines must be the same.
func TestKeyCacheWritesWhatTheEncoderWrites(t *testing.T) {
	h := newTestHandler(t, Options{})
	c := h.s.reg.lookup("requests")
	var keys keyCache
	attrs := []slog.Attr{
		slog.String("method", "GET"),
		slog.Duration("duration", time.Millisecond),
		slog.Duration("token", time.Second), // secret: [REDACTED], no _ms
		slog.String("password", "hunter2"),
		slog.Int("quo\"te\n", 1),
		slog.String(strings.Repeat("k", maxCachedKey+1), "long"),
		slog.Duration("wait_ms", time.Microsecond),
	}
	for i := range 3 * keyCacheSlots {
		// A key built afresh each time: equal to the last round's, at
		// another address, and many distinct ones.
		attrs = append(attrs[:7], slog.Int(strings.Repeat("x", 1+i%3)+string(rune('a'+i%26)), i),
			slog.Duration(string([]byte("duration")), time.Second))
		r := slog.NewRecord(time.Date(2026, 11, 26, 10, 8, 45, 0, time.UTC), slog.LevelDebug, "m", 0)
		r.AddAttrs(attrs...)
		want := h.encode(nil, r, c, Stamp{}, config.DefaultMaxLineBytes)
		got := h.encodeKeys(nil, &r, c, Stamp{}, config.DefaultMaxLineBytes, &keys)
		require.Equal(t, string(want), string(got))
	}
	r := slog.NewRecord(time.Time{}, slog.LevelDebug, "m", 0)
	r.AddAttrs(attrs...)
	line := string(h.encodeKeys(nil, &r, c, Stamp{}, config.DefaultMaxLineBytes, &keys))
	require.Contains(t, line, `"duration_ms":1.0,"token":"[REDACTED]","password":"[REDACTED]"`)
	require.Contains(t, line, `"wait_ms":0.001`)
}
