package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchFile writes lines to a file and returns its path.
func benchFile(t *testing.T, lines []string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "bench.txt")
	require.NoError(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return file
}

// pairsOf reads lines as a file and returns each round's base and v
// figures for unit, where the round has both.
func pairsOf(t *testing.T, lines []string, v, unit string) [][2]float64 {
	t.Helper()
	rounds, _, err := read(benchFile(t, lines), "impl", "plain")
	require.NoError(t, err)
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
	assert.Equal(t, [][2]float64{{100, 110}, {100, 120}}, got)
}

// The variant is the whole value of key=, a hyphen in it included; only
// the GOMAXPROCS suffix (-2) is not part of it, and another key ending in
// key (baseimpl=) is not key.
func TestReadVariantNames(t *testing.T) {
	file := benchFile(t, []string{
		"BenchmarkF/impl=plain-2 10 100 cpu-ns/req",
		"BenchmarkF/impl=on-2 10 110 cpu-ns/req",
		"BenchmarkF/impl=on-fast-2 10 105 cpu-ns/req",
		"BenchmarkF/baseimpl=x/impl=off-2 10 101 cpu-ns/req",
		"BenchmarkF/impl=busy20us/size=1-2 10 120 cpu-ns/req",
	})
	rounds, order, err := read(file, "impl", "plain")
	require.NoError(t, err)
	assert.Equal(t, []string{"plain", "on", "on-fast", "off", "busy20us"}, order)
	assert.Len(t, rounds, 1)
}
