package handler

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/internal/config"
)

// FuzzStableMatchesImmediate is the differential fuzz of the two ways a
// record reaches a file: kept as it is and encoded later by the writer (the
// "stable" path), or encoded by the caller in Handle (the immediate path,
// forced here for every record). Random records (every slog Kind, groups
// and empty groups, WithAttrs/WithGroup chains, secrets and URLs with
// credentials, huge and invalid strings, NaN and ±Inf, durations, times,
// errors, nil, LogValuers) logged through both must give byte-identical
// lines, each one valid JSON object, and neither path may fail a record.
func FuzzStableMatchesImmediate(f *testing.F) {
	f.Add([]byte{}, "", "")
	f.Add([]byte{3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "key", "value")
	f.Add([]byte{9, 7, 3, 7, 0, 0, 8, 1, 2, 0, 7, 5, 0, 1, 2, 3, 14, 15, 16, 17}, "token", "http://user:pass@host:8080/p?token=abc&x=1#frag")
	f.Add([]byte{200, 100, 50, 25, 12, 6, 3, 1, 255, 254, 253}, "a\nb\"c\\\x00", "\xff\xfe\u2028\u2029é")
	f.Add(bytes.Repeat([]byte{7, 1, 6, 2}, 20), "duration", strings.Repeat("x", 300))
	f.Add([]byte{1, 1, 2, 7, 0, 7, 0, 7, 0, 7, 0}, "g", "")

	pairs := []*diffPair{
		newDiffPair(f, config.MinLineBytes), // most lines are cut: the truncation paths
		newDiffPair(f, 2048),
		newDiffPair(f, config.DefaultMaxLineBytes),
	}
	f.Fuzz(func(t *testing.T, program []byte, s1, s2 string) {
		g := &recordGen{data: program, strs: append([]string{s1, s2}, fuzzStrings...)}
		mode := g.byte()
		p := pairs[int(mode)%len(pairs)]
		// Mostly values that can take the deferred path; else anything.
		g.stableOnly = mode/8%4 != 0
		chain := g.chain()
		ctx := g.context()
		r := g.record()

		stableLines := p.stable.log(t, chain, ctx, r)
		immediateLines := p.immediate.log(t, chain, ctx, r)
		if !bytes.Equal(stableLines, immediateLines) {
			t.Fatalf("the two paths differ (limit %d):\nstable:    %s\nimmediate: %s", p.limit, stableLines, immediateLines)
		}
		if len(stableLines) == 0 {
			t.Fatalf("no line written")
		}
		for _, line := range bytes.SplitAfter(stableLines, []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			if line[len(line)-1] != '\n' || len(line) > p.limit {
				t.Fatalf("not one line within %d bytes: %q", p.limit, line)
			}
			if !json.Valid(line) {
				t.Fatalf("invalid JSON: %s", line)
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("does not decode into an object (%v): %s", err, line)
			}
		}
	})
}

// diffPair is a handler on each path, with the same options, clock and
// session ID, so that their lines must be equal byte for byte.
type diffPair struct {
	limit             int
	stable, immediate *diffSide
}

func newDiffPair(f *testing.F, limit int) *diffPair {
	return &diffPair{limit: limit, stable: newDiffSide(f, limit, false), immediate: newDiffSide(f, limit, true)}
}

// diffSide is one handler whose file writes are captured in memory.
type diffSide struct {
	h       *Handler
	armed   atomic.Bool // capture from the first record on
	mu      sync.Mutex
	written bytes.Buffer
}

// fuzzStart is the fuzz handlers' clock: their start, and the time of
// records without one.
var fuzzStart = time.Date(2026, 11, 26, 10, 17, 15, 0, time.UTC)

func newDiffSide(f *testing.F, limit int, immediate bool) *diffSide {
	d := &diffSide{}
	hooks := &testHooks{immediate: immediate, writeFile: func(_ string, _ *os.File, p []byte) (int, error) {
		if d.armed.Load() {
			d.mu.Lock()
			d.written.Write(p)
			d.mu.Unlock()
		}
		return len(p), nil // nothing reaches the disk
	}}
	h, err := New(Options{Dir: f.TempDir(), SessionID: "fuzz", DefaultCategory: "c", MaxLineBytes: limit, Stamp: testStamp,
		MaxFileBytes: -1, MaxTotalBytes: -1, FlushInterval: time.Hour,
		now: func() time.Time { return fuzzStart }, hooks: hooks})
	if err != nil {
		f.Fatal(err)
	}
	d.armed.Store(true)
	f.Cleanup(func() { h.Close() })
	d.h = h
	return d
}

// log handles r through the chain on this side's handler and returns the
// lines written for it.
func (d *diffSide) log(t *testing.T, chain []chainStep, ctx context.Context, r slog.Record) []byte {
	t.Helper()
	before := d.h.Stats()
	var h slog.Handler = d.h
	for _, step := range chain {
		if step.group != nil {
			h = h.WithGroup(*step.group)
		} else {
			h = h.WithAttrs(step.attrs)
		}
	}
	if err := h.Handle(ctx, r); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if err := d.h.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	after := d.h.Stats()
	if after.Failed != before.Failed || after.Dropped != before.Dropped || after.Panics != before.Panics {
		t.Fatalf("the record failed (immediate path: %v): %v", d.h.s.immediate, after.LastError)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := bytes.Clone(d.written.Bytes())
	d.written.Reset()
	return out
}

// chainStep is one WithGroup (group set) or WithAttrs call.
type chainStep struct {
	group *string
	attrs []slog.Attr
}

// fuzzStrings are the strings the generator picks from, besides the two
// the fuzzer mutates: keys with a meaning, secrets, URLs with credentials,
// escapes, invalid UTF-8, a string longer than any line.
var fuzzStrings = []string{
	"", "category", "request_id", "trace_id", "duration", "elapsed_ms", "msg", "level", "g", "inner",
	"authorization", "X-Api-Key", "access_token", "password", "Cookie",
	"http://user:secret@orchestrator:8000/provision?api_key=abc&x=1",
	"see https://u:p@h/x?token=t&sig=s and http://ok/", "?token=abc;x=1", "postgres://u:p@db/x",
	"http://x/?keyword=go&signal=1&k=v", "(http://u:p@h/#access_token=t)", "url=http://u:p@h/?X-Amz-Signature=s&auth=a",
	"line\nbreak", "quote\"back\\slash", "\x00\x01\x1f\x7f", "\xff\xfe\xfd", "\u2028\u2029", "é漢字🙂",
	strings.Repeat("a", 100), strings.Repeat("\x01", 200), strings.Repeat("ü", 700), strings.Repeat("z", 70_000),
}

// recordGen builds records from the fuzzer's bytes.
type recordGen struct {
	data       []byte
	strs       []string
	stableOnly bool // only values that can be kept and encoded later
}

func (g *recordGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *recordGen) uint64() uint64 {
	var b [8]byte
	n := copy(b[:], g.data)
	g.data = g.data[n:]
	return binary.LittleEndian.Uint64(b[:])
}

func (g *recordGen) str() string {
	s := g.strs[int(g.byte())%len(g.strs)]
	if b := g.byte(); b >= 200 && len(s) > 0 { // a piece of it, cut anywhere (even inside a rune)
		i, j := int(g.byte())%len(s), int(g.byte())%len(s)
		return s[min(i, j):max(i, j)]
	}
	return s
}

func (g *recordGen) chain() []chainStep {
	var steps []chainStep
	for range int(g.byte() % 5) {
		if g.byte()%2 == 0 {
			name := g.str()
			steps = append(steps, chainStep{group: &name})
		} else {
			steps = append(steps, chainStep{attrs: g.attrs(0)})
		}
	}
	return steps
}

func (g *recordGen) context() context.Context {
	ctx := context.Background()
	switch g.byte() % 4 {
	case 1:
		ctx = withStamp(ctx, Stamp{RequestID: g.str(), TraceID: [16]byte{0x4b, 0xf9}, SpanID: [8]byte{0xf0, 0x67}})
	case 2:
		ctx = withStamp(ctx, Stamp{RequestID: g.str()})
	case 3:
		var st Stamp
		binary.LittleEndian.PutUint64(st.TraceID[:], g.uint64()|1)
		binary.LittleEndian.PutUint64(st.SpanID[:], g.uint64()|1)
		ctx = withStamp(ctx, st)
	}
	return ctx
}

func (g *recordGen) record() slog.Record {
	r := slog.NewRecord(g.time(), slog.Level(int8(g.byte())), g.str(), 0)
	r.AddAttrs(g.attrs(0)...)
	return r
}

func (g *recordGen) attrs(depth int) []slog.Attr {
	n := int(g.byte() % 12)
	if depth > 0 {
		n %= 4
	}
	attrs := make([]slog.Attr, 0, n)
	for range n {
		attrs = append(attrs, slog.Attr{Key: g.str(), Value: g.value(depth)})
	}
	return attrs
}

func (g *recordGen) time() time.Time {
	switch g.byte() % 6 {
	case 0:
		return time.Time{}
	case 1:
		return fuzzStart.Add(time.Duration(g.uint64() % uint64(100*time.Hour)))
	case 2:
		return time.Unix(int64(g.uint64()%(1<<40))-(1<<39), int64(g.uint64()%1e9))
	case 3:
		return time.Date(10000+int(g.byte()), 1, 1, 0, 0, 0, 0, time.UTC) // past year 9999
	case 4:
		return fuzzStart.In(time.FixedZone("X", -int(g.byte())*900))
	}
	return time.Date(-int(g.byte()), 6, 1, 0, 0, 0, int(g.byte()), time.UTC)
}

func (g *recordGen) float() float64 {
	switch g.byte() % 8 {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1)
	case 2:
		return math.Inf(-1)
	case 3:
		return math.Copysign(0, -1)
	case 4:
		return 1e21
	case 5:
		return 1e-7
	}
	return math.Float64frombits(g.uint64())
}

func (g *recordGen) value(depth int) slog.Value {
	kinds := byte(17)
	if g.stableOnly {
		kinds = 9
	}
	switch g.byte() % kinds {
	case 0:
		return slog.StringValue(g.str())
	case 1:
		return slog.Int64Value(int64(g.uint64()))
	case 2:
		return slog.Uint64Value(g.uint64())
	case 3:
		return slog.Float64Value(g.float())
	case 4:
		return slog.BoolValue(g.byte()%2 == 0)
	case 5:
		return slog.DurationValue(time.Duration(g.uint64()))
	case 6:
		return slog.TimeValue(g.time())
	case 7:
		if depth >= 4 {
			return slog.GroupValue()
		}
		return slog.GroupValue(g.attrs(depth + 1)...) // often empty
	case 8:
		return slog.AnyValue(nil) // the last of the stable kinds
	case 9:
		return slog.AnyValue(errors.New(g.str()))
	case 10:
		return slog.AnyValue(fmt.Errorf("wrapped: %w", errString(g.str())))
	case 11:
		return slog.AnyValue([]byte(g.str()))
	case 12:
		return slog.AnyValue(map[string]any{g.str(): g.str(), "n": g.byte(), "token": g.str()})
	case 13:
		return slog.AnyValue(fuzzValuer{g.value(depth + 1)})
	case 14:
		return slog.AnyValue(struct {
			A string
			F float64
		}{g.str(), g.float()})
	case 15:
		var nilErr *panicError
		return slog.AnyValue(nilErr) // its Error method panics
	}
	return slog.AnyValue(g.uint64()) // a uint64 behind an interface
}

// fuzzValuer is a LogValuer whose value the generator chose.
type fuzzValuer struct{ v slog.Value }

func (v fuzzValuer) LogValue() slog.Value { return v.v }

// panicError is an error whose Error panics when it is nil.
type panicError struct{ msg string }

func (e *panicError) Error() string { return e.msg }
