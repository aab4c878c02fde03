package safego

import (
	"errors"
	"testing"
)

func boom() { panic("boom") }

func TestCallRecoversAndSaysWhere(t *testing.T) {
	if err := Call(func() {}); err != nil {
		t.Fatalf("no panic, got %v", err)
	}
	err := Call(boom)
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *PanicError", err)
	}
	if pe.Value != "boom" {
		t.Fatalf("value %v", pe.Value)
	}
	const want = "panic: boom (at github.com/proxydebug/debugmode/internal/safego.boom (safego/safego_test.go:8))"
	if err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err.Error(), want)
	}
}

func TestCallRecoversRuntimeErrors(t *testing.T) {
	var s []int
	i := 3
	err := Call(func() { _ = s[i] })
	if err == nil {
		t.Fatal("no error for an index out of range")
	}
	t.Log(err)
}
