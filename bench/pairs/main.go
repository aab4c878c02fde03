// Command pairs compares interleaved benchmark runs round by round: for
// each round (one run of each variant, one after the other, as make
// bench-fork runs them) the ratio of a variant's figure to the base's, then
// the median of those ratios with a bootstrap 95% interval. A machine whose
// speed drifts over minutes moves both runs of a round alike, so the
// ratios are steadier than benchstat's comparison of the two sets of runs
// as wholes, which does not pair them.
//
//	go run ./bench/pairs -key impl -base plain -unit cpu-ns/req bench/fork.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	key := flag.String("key", "impl", "the benchmark name's key that names the variant (impl=plain)")
	base := flag.String("base", "plain", "the variant the others are divided by")
	units := flag.String("unit", "cpu-ns/req", "the units to compare, comma-separated")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pairs [-key impl] [-base plain] [-unit cpu-ns/req,...] FILE")
		os.Exit(2)
	}
	rounds, order, err := read(flag.Arg(0), *key, *base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pairs:", err)
		os.Exit(1)
	}
	if !slices.Contains(order, *base) {
		fmt.Fprintf(os.Stderr, "pairs: no runs of %s=%s in %s\n", *key, *base, flag.Arg(0))
		os.Exit(1)
	}
	for _, unit := range strings.Split(*units, ",") {
		for _, v := range order {
			if v == *base {
				continue
			}
			var ratios []float64
			for _, r := range rounds {
				b, okB := r[*base][unit]
				x, okX := r[v][unit]
				if okB && okX && b > 0 {
					ratios = append(ratios, x/b)
				}
			}
			if len(ratios) == 0 {
				fmt.Printf("%-16s %s/%s: no round has both\n", unit, v, *base)
				continue
			}
			lo, hi := bootstrap(ratios)
			fmt.Printf("%-16s %s/%s: x%.3f [%.3f, %.3f] (%d rounds)\n", unit, v, *base, median(ratios), lo, hi, len(ratios))
		}
	}
}

// read returns the rounds of file (a new round begins at each run of base,
// and at a variant's second run in a round, whose base is then missing) and
// the variants in the order first seen.
func read(file, key, base string) (rounds []map[string]map[string]float64, order []string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	procs := regexp.MustCompile(`-[0-9]+$`) // the GOMAXPROCS suffix
	in := bufio.NewScanner(f)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		var v string
		for _, part := range strings.Split(procs.ReplaceAllString(fields[0], ""), "/") {
			if x, ok := strings.CutPrefix(part, key+"="); ok {
				v = x
				break
			}
		}
		if v == "" {
			continue
		}
		if !slices.Contains(order, v) {
			order = append(order, v)
		}
		if len(rounds) == 0 || v == base || rounds[len(rounds)-1][v] != nil {
			rounds = append(rounds, map[string]map[string]float64{})
		}
		figures := map[string]float64{}
		for i := 2; i+1 < len(fields); i += 2 { // after the name and the count: value unit pairs
			if x, err := strconv.ParseFloat(fields[i], 64); err == nil {
				figures[fields[i+1]] = x
			}
		}
		rounds[len(rounds)-1][v] = figures
	}
	return rounds, order, in.Err()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// bootstrap is the 95% interval of the median: 10,000 resamples, a fixed
// seed, so that a file always gives the same interval.
func bootstrap(xs []float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	meds := make([]float64, 10000)
	sample := make([]float64, len(xs))
	for i := range meds {
		for j := range sample {
			sample[j] = xs[rng.IntN(len(xs))]
		}
		meds[i] = median(sample)
	}
	slices.Sort(meds)
	return meds[250], meds[9749]
}
