package safeerr

import (
	"errors"
	"testing"
)

type boom struct{}

func (*boom) Error() string { panic("boom") }

func TestString(t *testing.T) {
	if got := String(errors.New("plain")); got != "plain" {
		t.Fatalf("got %q", got)
	}
	var b *boom
	if got := String(b); got != "!PANIC in Error(): boom" {
		t.Fatalf("got %q", got)
	}
}
