package handler

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/internal/config"
)

func FuzzSanitizeCategory(f *testing.F) {
	for _, s := range []string{"", "requests", "../../etc", "Requests", "a/b", "2xx", "\xff\x00", strings.Repeat("é", 100), ".", "_", "-"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		got := SanitizeCategory(s)
		if !isCleanCategory(got) {
			t.Fatalf("SanitizeCategory(%q) = %q: not a clean name", s, got)
		}
		if again := SanitizeCategory(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
		path := filepath.Join(dir, "20261126_101715_"+got+".jsonl")
		if filepath.Dir(path) != dir {
			t.Fatalf("category %q names %s, outside %s", s, path, dir)
		}
	})
}

// FuzzEncode checks that whatever a caller passes, a line is one valid
// JSON object within the size limit, and the category names a file inside
// the directory.
func FuzzEncode(f *testing.F) {
	f.Add("requests", "key", "value", 1.5, int64(1500), uint8(2), 300)
	f.Add("../x", "k\n", "a\nb\xff", math.NaN(), int64(-1), uint8(0), 256)
	f.Add("", "", "", math.Inf(1), int64(math.MinInt64), uint8(40), 100000)
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	h, err := New(Options{Dir: f.TempDir(), FlushInterval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { h.Close() })
	f.Fuzz(func(t *testing.T, cat, key, val string, fl float64, d int64, depth uint8, limit int) {
		limit = config.MinLineBytes + abs(limit)%(1<<20)
		var lg slog.Handler = h
		for i := range int(depth % 50) {
			lg = lg.WithGroup(key).WithAttrs([]slog.Attr{slog.String(key, val), slog.Int("i", i)})
		}
		r := slog.NewRecord(time.Unix(0, d), slog.LevelInfo, val, 0)
		r.AddAttrs(
			slog.String(key, val),
			slog.Float64("f", fl),
			slog.Duration(key, time.Duration(d)),
			slog.Any("e", errString(val)),
			slog.Group(key, slog.String(val, key), slog.Group("", slog.Float64(key, fl))),
			slog.Any("bytes", []byte(val)),
			slog.Any("map", map[string]any{key: val, "f": fl}),
			slog.Any("valuer", panicValuer{}),
			slog.Any("cycle", cyclic),
			slog.Any(key, panicMarshaler{}),
		)
		c := h.s.reg.lookup(cat)
		line := lg.(*Handler).encode(nil, &r, c, stamp{}, limit)
		if len(line) > limit {
			t.Fatalf("line of %d bytes over the limit %d", len(line), limit)
		}
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("line is not exactly one line: %q", line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("invalid JSON (%v): %s", err, line)
		}
		if m["category"] != c.name {
			t.Fatalf("category field %v, file category %q", m["category"], c.name)
		}
		if filepath.Dir(h.Path(cat)) != h.Dir() {
			t.Fatalf("category %q names a file outside the directory: %s", cat, h.Path(cat))
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

func abs(n int) int {
	if n < 0 {
		if n == math.MinInt {
			return 0
		}
		return -n
	}
	return n
}
