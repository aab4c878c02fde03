package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pairsOf reads lines as a file and returns each round's base and v
// figures for unit, where the round has both.
func pairsOf(t *testing.T, lines []string, v, unit string) [][2]float64 {
	t.Helper()
	file := filepath.Join(t.TempDir(), "bench.txt")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rounds, _, err := read(file, "impl", "plain")
	if err != nil {
		t.Fatal(err)
	}
	var pairs [][2]float64
	for _, r := range rounds {
		b, okB := r["plain"][unit]
		x, okX := r[v][unit]
		if okB && okX {
			pairs = append(pairs, [2]float64{b, x})
		}
	}
	return pairs
}

// A round whose base run is missing (its line lost) must not pair its
// variants with the previous round's base, nor hide that round's own.
func TestReadRoundWithoutBase(t *testing.T) {
	got := pairsOf(t, []string{
		"BenchmarkF/impl=plain-2 10 100 ns/op 100 cpu-ns/req",
		"BenchmarkF/impl=off-2 10 100 ns/op 110 cpu-ns/req",
		"BenchmarkF/impl=off-2 10 100 ns/op 300 cpu-ns/req", // round 2, its plain missing
		"BenchmarkF/impl=plain-2 10 100 ns/op 100 cpu-ns/req",
		"BenchmarkF/impl=off-2 10 100 ns/op 120 cpu-ns/req",
	}, "off", "cpu-ns/req")
	want := [][2]float64{{100, 110}, {100, 120}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("pairs %v, want %v", got, want)
	}
}

// The variant is the whole value of key=, a hyphen in it included; only
// the GOMAXPROCS suffix (-2) is not part of it, and another key ending in
// key (baseimpl=) is not key.
func TestReadVariantNames(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bench.txt")
	lines := []string{
		"BenchmarkF/impl=plain-2 10 100 cpu-ns/req",
		"BenchmarkF/impl=on-2 10 110 cpu-ns/req",
		"BenchmarkF/impl=on-fast-2 10 105 cpu-ns/req",
		"BenchmarkF/baseimpl=x/impl=off-2 10 101 cpu-ns/req",
		"BenchmarkF/impl=busy20us/size=1-2 10 120 cpu-ns/req",
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rounds, order, err := read(file, "impl", "plain")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"plain", "on", "on-fast", "off", "busy20us"}
	if strings.Join(order, " ") != strings.Join(want, " ") || len(rounds) != 1 {
		t.Errorf("variants %q in %d rounds, want %q in 1", order, len(rounds), want)
	}
}
