package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlogtest runs the standard conformance suite against the lines the
// handler writes, with the fields it adds mapped back to slog's names.
func TestSlogtest(t *testing.T) {
	var h *Handler
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		h = newTestHandler(t, Options{DefaultCategory: "conformance"})
		return h
	}, func(t *testing.T) map[string]any {
		require.NoError(t, h.Flush())
		lines := readLines(t, h.Path("conformance"))
		require.Len(t, lines, 1)
		m := lines[0]
		for _, k := range []string{"session_id", "elapsed_seconds", "category"} {
			require.Contains(t, m, k)
			delete(m, k)
		}
		if ts, ok := m["timestamp"]; ok {
			m[slog.TimeKey] = ts
			delete(m, "timestamp")
		}
		return m
	})
}

func TestLineKeyOrderAndFixedFields(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 17, 15, 0, time.UTC)
	h := newTestHandler(t, Options{now: func() time.Time { return start }})
	l := slog.New(h).With("category", "requests", "bound", 1).WithGroup("g").With("inner", true)

	// A non-UTC record time is written in UTC.
	cet := time.FixedZone("CET", 3600)
	at := time.Date(2026, 11, 26, 11, 17, 16, 500_000_000, cet)
	r := slog.NewRecord(at, slog.LevelDebug, "request", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.Int("status_code", 200))
	require.NoError(t, l.Handler().Handle(context.Background(), r))
	require.NoError(t, h.Flush())

	raw := rawLines(t, h.Path("requests"))
	require.Len(t, raw, 1)
	assert.Equal(t, []string{"session_id", "timestamp", "elapsed_seconds", "level", "category", "msg", "bound", "g"}, keys(t, raw[0]))
	assert.Equal(t,
		`{"session_id":"20261126_101715","timestamp":"2026-11-26T10:17:16.500000000Z","elapsed_seconds":1.500000,"level":"DEBUG","category":"requests","msg":"request","bound":1,"g":{"inner":true,"method":"GET","status_code":200}}`,
		string(raw[0]))
}

func TestTimestampSortsAsTime(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	base := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	// Fractions that RFC3339Nano would shorten (and so mis-sort).
	for _, ns := range []int{0, 100_000_000, 120_000_000, 123_456_789, 999_999_999} {
		r := slog.NewRecord(base.Add(time.Duration(ns)), slog.LevelInfo, "m", 0)
		require.NoError(t, h.Handle(context.Background(), r))
	}
	require.NoError(t, h.Flush())
	var prev string
	for _, m := range readLines(t, h.Path("c")) {
		ts := m["timestamp"].(string)
		require.Len(t, ts, len("2026-11-26T10:00:00.000000000Z"))
		require.True(t, strings.HasSuffix(ts, "Z"))
		parsed, err := time.Parse(time.RFC3339Nano, ts)
		require.NoError(t, err)
		require.Equal(t, time.UTC, parsed.Location())
		require.Less(t, prev, ts)
		prev = ts
	}
}

func TestZeroTimeOmitsTimestamp(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	require.NoError(t, h.Handle(context.Background(), slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)))
	m := only(t, h, "c")
	assert.NotContains(t, m, "timestamp")
	assert.GreaterOrEqual(t, num(t, m["elapsed_seconds"]), 0.0)
}

func TestValueEncoding(t *testing.T) {
	type point struct{ X, Y int }
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	for _, tc := range []struct {
		name string
		attr slog.Attr
		want string // the attr as written, without the leading comma
	}{
		{"duration", slog.Duration("duration", 1500*time.Millisecond), `"duration_ms":1500.0`},
		{"duration exact to the ns", slog.Duration("wait", 1234567*time.Nanosecond), `"wait_ms":1.234567`},
		{"duration already _ms", slog.Duration("connect_ms", time.Millisecond), `"connect_ms":1.0`},
		{"negative duration", slog.Duration("skew", -2500*time.Microsecond), `"skew_ms":-2.5`},
		{"min duration", slog.Duration("d", math.MinInt64), `"d_ms":-9223372036854.775808`},
		{"error", slog.Any("error", errors.New("dial tcp: refused")), `"error":"dial tcp: refused"`},
		{"nil error", slog.Any("error", error(nil)), `"error":null`},
		{"panicking error", slog.Any("error", (*panicErr)(nil)), `"error":"!PANIC in Error(): boom"`},
		{"NaN", slog.Float64("f", math.NaN()), `"f":"NaN"`},
		{"+Inf", slog.Float64("f", math.Inf(1)), `"f":"+Inf"`},
		{"-Inf", slog.Float64("f", math.Inf(-1)), `"f":"-Inf"`},
		{"float", slog.Float64("f", 0.5), `"f":0.5`},
		{"tiny float", slog.Float64("f", 1e-9), `"f":1e-9`},
		{"uint", slog.Uint64("u", math.MaxUint64), `"u":18446744073709551615`},
		{"bool", slog.Bool("b", false), `"b":false`},
		{"time", slog.Time("at", time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -3600))), `"at":"2026-01-02T04:04:05.000000006Z"`},
		{"newline", slog.String("s", "a\nb\r\t\"\\"), `"s":"a\nb\r\t\"\\"`},
		{"control", slog.String("s", "\x00\x1b[31m"), `"s":"\u0000\u001b[31m"`},
		{"invalid utf-8", slog.String("s", "a\xffb"), `"s":"a\ufffdb"`},
		{"line separator", slog.String("s", "a\u2028b"), `"s":"a\u2028b"`},
		{"unicode", slog.String("s", "héllo ✓"), `"s":"héllo ✓"`},
		{"key escaped", slog.Int("k\"\n", 1), `"k\"\n":1`},
		{"struct", slog.Any("p", point{1, 2}), `"p":{"X":1,"Y":2}`},
		{"bytes", slog.Any("b", []byte("text")), `"b":"text"`},
		{"nil", slog.Any("n", nil), `"n":null`},
		{"cycle", slog.Any("c", cyclic), `"c":"!ERROR:json: unsupported value: encountered a cycle via map[string]interface {}"`},
		{"panicking marshaler", slog.Any("m", panicMarshaler{}), `"m":"!ERROR:marshal panicked: boom"`},
		{"html kept", slog.String("s", "<a&b>"), `"s":"<a&b>"`},
		{"logvaluer", slog.Any("v", valuer{}), `"v":"resolved"`},
		{"group", slog.Group("g", "a", 1, slog.Group("h", "b", 2)), `"g":{"a":1,"h":{"b":2}}`},
		{"inline group", slog.Group("", "a", 1), `"a":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, Options{DefaultCategory: "c"})
			r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
			r.AddAttrs(tc.attr)
			require.NoError(t, h.Handle(context.Background(), r))
			require.NoError(t, h.Flush())
			raw := rawLines(t, h.Path("c"))
			require.Len(t, raw, 1)
			assert.True(t, json.Valid(raw[0]), "%s", raw[0])
			assert.True(t, strings.HasSuffix(string(raw[0]), `"msg":"m",`+tc.want+`}`), "got %s\nwant …%s}", raw[0], tc.want)
		})
	}
}

type panicErr struct{}

func (*panicErr) Error() string { panic("boom") }

type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("boom") }

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("resolved") }

type panicValuer struct{}

func (panicValuer) LogValue() slog.Value { panic("valuer boom") }

func TestPanickingLogValuerIsWrittenNotRaised(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h).Info("m", "v", panicValuer{})
	m := only(t, h, "c")
	assert.Contains(t, m["v"], "LogValue panicked")
}

func TestCategoryRouting(t *testing.T) {
	h := newTestHandler(t, Options{})
	l := slog.New(h)
	l.Debug("no category: not persisted")
	l.Debug("from the record", "category", "provisioning", "a", 1)
	l.With("category", "streams").Debug("bound with With")
	l.With("category", "streams").Debug("the record's wins", "category", "errors")
	l.WithGroup("g").Debug("under WithGroup", "category", "engine_selection", "x", 1)
	l.With("category", "requests").WithGroup("g").Debug("bound before WithGroup")
	l.Debug("inside a Group value it is data", slog.Group("meta", "category", "nope"), "category", "disconnects")
	l.Debug("empty category is none", "category", "")
	require.NoError(t, h.Flush())

	want := map[string]string{
		"provisioning":     "from the record",
		"streams":          "bound with With",
		"errors":           "the record's wins",
		"engine_selection": "under WithGroup",
		"requests":         "bound before WithGroup",
		"disconnects":      "inside a Group value it is data",
	}
	for cat, msg := range want {
		m := only(t, h, cat)
		assert.Equal(t, msg, m["msg"])
		assert.Equal(t, cat, m["category"])
	}
	assert.Equal(t, json.Number("1"), only(t, h, "provisioning")["a"], "other attrs stay")
	assert.Equal(t, map[string]any{"x": json.Number("1")}, only(t, h, "engine_selection")["g"])
	assert.NotContains(t, only(t, h, "requests"), "g", "an empty group is not written")
	assert.Equal(t, map[string]any{"category": "nope"}, only(t, h, "disconnects")["meta"])

	var names []string
	for _, f := range files(t, h.Dir()) {
		names = append(names, strings.TrimPrefix(f, h.SessionID()+"_"))
	}
	assert.ElementsMatch(t, []string{"session.jsonl", "provisioning.jsonl", "streams.jsonl", "errors.jsonl",
		"engine_selection.jsonl", "requests.jsonl", "disconnects.jsonl"}, names)
}

func TestDefaultCategory(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "General Log"})
	slog.New(h).Info("plain")
	m := only(t, h, "general_log")
	assert.Equal(t, "general_log", m["category"])
	assert.Equal(t, "plain", m["msg"])
}

func TestLevel(t *testing.T) {
	h := newTestHandler(t, Options{Level: slog.LevelInfo, DefaultCategory: "c"})
	l := slog.New(h)
	l.Debug("dropped by level")
	l.Info("kept")
	l.Log(context.Background(), slog.LevelWarn+2, "custom level")
	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 2)
	assert.Equal(t, "INFO", lines[0]["level"])
	assert.Equal(t, "WARN+2", lines[1]["level"])
}

func TestSanitizedCategoryStaysInDirectory(t *testing.T) {
	h := newTestHandler(t, Options{})
	l := slog.New(h)
	for _, c := range []string{"../../etc/passwd", "/abs/path", "a\x00b", "..", ".", "Requests", "sp ace", "ünïcode", strings.Repeat("x", 500), "2xx"} {
		l.Info("m", "category", c)
	}
	require.NoError(t, h.Flush())
	for _, name := range files(t, h.Dir()) {
		require.True(t, strings.HasPrefix(name, h.SessionID()+"_"), name)
		cat := strings.TrimSuffix(strings.TrimPrefix(name, h.SessionID()+"_"), ".jsonl")
		require.Regexp(t, `^[a-z_-][a-z0-9_-]{0,63}$`, cat)
		for _, m := range readLines(t, h.Dir()+"/"+name) {
			assert.Equal(t, cat, m["category"])
		}
	}
	parent := files(t, h.Dir()+"/..")
	assert.Len(t, parent, 1, "nothing written beside the directory: %v", parent)
}

func TestTruncation(t *testing.T) {
	const limit = 512
	h := newTestHandler(t, Options{DefaultCategory: "c", MaxLineBytes: limit})
	l := slog.New(h)
	long := strings.Repeat("x", 2000)
	l.Info(long)
	l.Info("long attr", "a", 1, "s", long, "after", 2)
	l.Info("escapes", "s", strings.Repeat("\n", 2000))
	l.WithGroup("g").With("w", 1).Info("nested", slog.Group("h", "s", long))
	many := make([]any, 0, 200)
	for i := range 100 {
		many = append(many, fmt.Sprintf("k%d", i), i)
	}
	l.Info("many attrs", many...)
	l.Info("fits", "a", 1)
	require.NoError(t, h.Flush())

	raw := rawLines(t, h.Path("c"))
	require.Len(t, raw, 6)
	for i, line := range raw {
		require.True(t, json.Valid(line), "line %d: %s", i, line)
		require.LessOrEqual(t, len(line)+1, limit, "line %d", i)
	}
	lines := readLines(t, h.Path("c"))
	for _, m := range lines[:5] {
		assert.Equal(t, true, m["truncated"], "%v", m["msg"])
	}
	assert.NotContains(t, lines[5], "truncated")
	assert.True(t, strings.HasPrefix(lines[0]["msg"].(string), "xxxx"))
	assert.Equal(t, json.Number("1"), lines[1]["a"])
	assert.True(t, strings.HasPrefix(lines[1]["s"].(string), "xxxx"), "a long string is cut, not dropped")
	assert.NotContains(t, lines[1], "after")
	assert.Equal(t, "k0", keys(t, raw[4])[6])
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir() + "/logs"
	h := newTestHandler(t, Options{Dir: dir, DefaultCategory: "c"})
	slog.New(h).Info("m")
	require.NoError(t, h.Flush())
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
	fi, err = os.Stat(h.Path("c"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
}

func TestSymlinkAtLogPathIsNotFollowed(t *testing.T) {
	h := newTestHandler(t, Options{})
	target := t.TempDir() + "/target"
	require.NoError(t, os.WriteFile(target, []byte("precious\n"), 0o600))
	require.NoError(t, os.Symlink(target, h.Path("requests")))

	slog.New(h).Info("m", "category", "requests")
	err := h.Flush()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "symbolic link")

	data, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "precious\n", string(data))
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Categories["requests"].Failed)
	assert.Equal(t, uint64(1), st.WriteErrors)
	assert.ErrorContains(t, st.LastError, "symbolic link")
}

func TestInvalidOptions(t *testing.T) {
	_, err := New(Options{Dir: t.TempDir(), SessionID: "../x", QueueBytes: 10, MaxCategories: -1})
	require.Error(t, err)
	for _, want := range []string{`SessionID "../x"`, "QueueBytes 10", "MaxCategories -1"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestUnwritableDirectory(t *testing.T) {
	file := t.TempDir() + "/file"
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := New(Options{Dir: file + "/sub"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "create log directory")
}

func TestContextStampIsWritten(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	tid, sid := traceOf(t, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	ctx := withStamp(context.Background(), stamp{RequestID: "req-7", TraceID: tid, SpanID: sid})
	l := slog.New(h)
	l.InfoContext(ctx, "stable", "a", 1)
	l.InfoContext(ctx, "encoded by the caller", "err", errors.New("x"))
	l.InfoContext(ctx, "own id", "request_id", "mine")
	l.With("request_id", "bound").InfoContext(ctx, "bound id")
	l.Info("no context")
	l.InfoContext(withStamp(context.Background(), stamp{TraceID: tid, SpanID: sid}), "a span alone")
	require.NoError(t, h.Flush())

	raw := rawLines(t, h.Path("c"))
	require.Len(t, raw, 6)
	for _, line := range raw[:2] {
		assert.Equal(t, []string{"session_id", "timestamp", "elapsed_seconds", "level", "category", "msg", "request_id", "trace_id", "span_id"}, keys(t, line)[:9])
	}
	lines := readLines(t, h.Path("c"))
	assert.Equal(t, "req-7", lines[0]["request_id"])
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", lines[0]["trace_id"])
	assert.Equal(t, "00f067aa0ba902b7", lines[1]["span_id"])
	assert.Equal(t, "mine", lines[2]["request_id"])
	assert.NotContains(t, lines[2], "trace_id", "a line of another request is not stamped")
	assert.Equal(t, "bound", lines[3]["request_id"])
	assert.NotContains(t, lines[4], "request_id")
	assert.NotContains(t, lines[5], "request_id")
	assert.Equal(t, "00f067aa0ba902b7", lines[5]["span_id"])
}

// A request_id inside a group is the group's own field: the line still
// carries the context's request_id, trace_id and span_id at the top.
func TestGroupedRequestIDKeepsTheContexts(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	tid, sid := traceOf(t, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
	ctx := withStamp(context.Background(), stamp{RequestID: "req-8", TraceID: tid, SpanID: sid})
	up := slog.New(h).WithGroup("upstream")
	up.InfoContext(ctx, "record attr in a group", "request_id", "theirs")
	up.InfoContext(ctx, "immediate path", "request_id", "theirs", "err", errors.New("x"))
	up.With("request_id", "bound-theirs").InfoContext(ctx, "bound in a group")
	slog.New(h).With(slog.Group("g", slog.String("request_id", "in-group-value"))).InfoContext(ctx, "group value")
	require.NoError(t, h.Flush())

	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 4)
	for i, m := range lines {
		assert.Equal(t, "req-8", m["request_id"], "line %d", i)
		assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", m["trace_id"], "line %d", i)
		assert.Equal(t, "00f067aa0ba902b7", m["span_id"], "line %d", i)
	}
	assert.Equal(t, "theirs", lines[0]["upstream"].(map[string]any)["request_id"])
	assert.Equal(t, "theirs", lines[1]["upstream"].(map[string]any)["request_id"])
	assert.Equal(t, "bound-theirs", lines[2]["upstream"].(map[string]any)["request_id"])
	assert.Equal(t, "in-group-value", lines[3]["g"].(map[string]any)["request_id"])
}

func TestNoStampWithoutTheHook(t *testing.T) {
	h, err := New(Options{Dir: t.TempDir(), DefaultCategory: "c"})
	require.NoError(t, err)
	defer h.Close()
	slog.New(h).InfoContext(withStamp(context.Background(), stamp{RequestID: "req"}), "x")
	require.NoError(t, h.Flush())
	assert.NotContains(t, readLines(t, h.Path("c"))[0], "request_id")
}

// TestAnAttributeNamedLikeALinesOwnKeyIsPrefixed is a finding of the
// second trust round: an attribute named timestamp, level, session_id or
// msg wrote a second key of that name, and jq (and debuglog) took the
// attribute's: a forged time and level. It is written "fields.<key>".
func TestAnAttributeNamedLikeALinesOwnKeyIsPrefixed(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h).Info("real", "timestamp", "2000-01-01T00:00:00Z", "level", "DEBUG", "session_id", "forged",
		"msg", "forged", "elapsed_seconds", -1, "truncated", true, slog.Group("g", "level", "kept in a group"))
	require.NoError(t, h.Flush())
	raw := rawLines(t, h.Path("c"))
	require.Len(t, raw, 1)
	dec := json.NewDecoder(bytes.NewReader(raw[0]))
	_, err := dec.Token() // {
	require.NoError(t, err)
	seen := map[string]bool{}
	for dec.More() {
		key, err := dec.Token()
		require.NoError(t, err)
		assert.False(t, seen[key.(string)], "%q twice at the top level: %s", key, raw[0])
		seen[key.(string)] = true
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	m := only(t, h, "c")
	assert.Equal(t, "INFO", m["level"])
	assert.Equal(t, "real", m["msg"])
	assert.Equal(t, h.SessionID(), m["session_id"])
	assert.NotContains(t, m, "truncated")
	assert.Equal(t, "DEBUG", m["fields.level"])
	assert.Equal(t, "forged", m["fields.msg"])
	assert.Equal(t, true, m["fields.truncated"])
	assert.Equal(t, map[string]any{"level": "kept in a group"}, m["g"])
	assert.Zero(t, h.Stats().Truncated)
}

// TestCutLinesAreCounted is a finding of the second trust round: a line
// cut at MaxLineBytes was marked but counted nowhere; Stats and
// session_end count it.
func TestCutLinesAreCounted(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c", MaxLineBytes: 1024})
	l := slog.New(h)
	l.Info("long", "pad", strings.Repeat("x", 4096))
	l.Info("short")
	l.Info("long", "category", "other", "pad", strings.Repeat("y", 4096))
	require.NoError(t, h.Close())
	st := h.Stats()
	assert.Equal(t, uint64(2), st.Truncated)
	assert.Equal(t, uint64(1), st.Categories["c"].Truncated)
	assert.Equal(t, uint64(1), st.Categories["other"].Truncated)
	lines := readLines(t, h.Path("session"))
	end := lines[len(lines)-1]
	assert.Equal(t, json.Number("2"), end["records_truncated"])
	assert.Equal(t, json.Number("1"), end["categories"].(map[string]any)["c"].(map[string]any)["truncated"])
}
