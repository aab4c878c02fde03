package jsonenc

import (
	"testing"
	"unicode/utf8"
)

// TestPlainPrefix compares the word-at-a-time scan with a byte loop for
// every byte value at every position of a word.
func TestPlainPrefix(t *testing.T) {
	slow := func(s string) int {
		i := 0
		for i < len(s) && s[i] < utf8.RuneSelf && safe[s[i]] {
			i++
		}
		return i
	}
	for b := range 256 {
		for pos := range 20 {
			buf := []byte("abcdefghijklmnopqrstuvwxyz")[:20]
			buf[pos] = byte(b)
			if got, want := plainPrefix(string(buf)), slow(string(buf)); got != want {
				t.Fatalf("byte %#x at %d: plainPrefix %d, want %d", b, pos, got, want)
			}
		}
	}
}
