package handler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/config"
)

// requestSchemaFields is the shape of slogdebug's LogRequest.
var requestSchemaFields = []Field{
	{Key: "method", Kind: FieldString},
	{Key: "path", Kind: FieldString},
	{Key: "duration", Kind: FieldDuration},
	{Key: "status_code", Kind: FieldInt},
	{Key: "ace_id", Kind: FieldString},
	{Key: "error", Kind: FieldNull},
	{Key: "ok", Kind: FieldBool},
}

// FuzzValuesMatchHandle is the differential fuzz of HandleValues against
// Handle: random schemas (every kind, keys that are secrets or need
// escaping), values (URLs with credentials, invalid and huge strings),
// extra attributes (every slog Kind, groups, errors, LogValuers, a
// category or a request_id among them), WithAttrs/WithGroup chains,
// contexts and times must give the very line Handle gives for the
// schema's slog.Record with the attributes added, whether the writer
// encodes the values or the caller does (the immediate path), at every
// line limit.
func FuzzValuesMatchHandle(f *testing.F) {
	f.Add([]byte{}, "", "")
	f.Add([]byte{5, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "method", "/ace/getstream?token=abc")
	f.Add([]byte{9, 7, 3, 7, 0, 0, 8, 1, 2, 0, 7, 5, 0, 1, 2, 3, 14, 15, 16, 17}, "password", "http://user:pass@host:8080/p?token=abc&x=1#frag")
	f.Add([]byte{200, 100, 50, 25, 12, 6, 3, 1, 255, 254, 253}, "a\nb\"c\\\x00", "\xff\xfe\u2028\u2029é")
	f.Add(bytes.Repeat([]byte{7, 1, 6, 2}, 20), "duration", strings.Repeat("x", 300))

	pairs := []*diffPair{
		newDiffPair(f, config.MinLineBytes),
		newDiffPair(f, 2048),
		newDiffPair(f, config.DefaultMaxLineBytes),
	}
	kinds := []FieldKind{FieldString, FieldInt, FieldDuration, FieldBool, FieldNull}
	f.Fuzz(func(t *testing.T, program []byte, s1, s2 string) {
		g := &recordGen{data: program, strs: append([]string{s1, s2}, fuzzStrings...), stableOnly: true}
		mode := g.byte()
		p := pairs[int(mode)%len(pairs)]
		g.stableOnly = mode/8%4 != 0 // mostly values the writer may encode
		var fields []Field
		for range int(g.byte() % 9) {
			fields = append(fields, Field{Key: g.str(), Kind: kinds[int(g.byte())%len(kinds)]})
		}
		var v Values
		for i := range v.Str {
			v.Str[i] = g.str()
		}
		for i := range v.Num {
			v.Num[i] = int64(g.uint64())
		}
		level := slog.Level(int8(g.byte()))
		chain := g.chain()
		ctx := g.context()
		at := g.time()
		msg := g.str()
		var attrs []slog.Attr
		if mode/32%2 == 1 {
			attrs = g.attrs(0)
		}

		stable, err := p.stable.h.NewSchema(level, fields...)
		if err != nil {
			return // keys a schema refuses (the test below checks which)
		}
		immediate, err := p.immediate.h.NewSchema(level, fields...)
		require.NoError(t, err)

		deferred := p.stable.logValues(t, chain, ctx, at, msg, stable, &v, attrs)
		encodedByCaller := p.immediate.logValues(t, chain, ctx, at, msg, immediate, &v, attrs)
		r := stable.Record(at, msg, &v)
		r.AddAttrs(attrs...)
		viaHandle := p.immediate.log(t, chain, ctx, r)
		if !bytes.Equal(deferred, viaHandle) || !bytes.Equal(encodedByCaller, viaHandle) {
			t.Fatalf("HandleValues and Handle differ (limit %d):\nvalues, writer: %s\nvalues, caller: %s\nHandle:         %s",
				p.limit, deferred, encodedByCaller, viaHandle)
		}
		if len(deferred) == 0 || deferred[len(deferred)-1] != '\n' || len(deferred) > p.limit || !json.Valid(deferred) {
			t.Fatalf("not one valid line within %d bytes: %q", p.limit, deferred)
		}
	})
}

// logValues is log for HandleValues.
func (d *diffSide) logValues(t *testing.T, chain []chainStep, ctx context.Context, at time.Time, msg string, sc *Schema, v *Values, attrs []slog.Attr) []byte {
	t.Helper()
	before := d.h.Stats()
	h := d.h
	for _, step := range chain {
		if step.group != nil {
			h = h.WithGroup(*step.group).(*Handler)
		} else {
			h = h.WithAttrs(step.attrs).(*Handler)
		}
	}
	require.NoError(t, h.HandleValues(ctx, at, msg, sc, v, attrs...))
	require.NoError(t, d.h.Flush())
	after := d.h.Stats()
	if after.Failed != before.Failed || after.Dropped != before.Dropped || after.Panics != before.Panics {
		t.Fatalf("the record failed: %v", after.LastError)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := bytes.Clone(d.written.Bytes())
	d.written.Reset()
	return out
}

func TestNewSchemaRefusesFieldsItCannotWrite(t *testing.T) {
	h := newTestHandler(t, Options{})
	for _, tc := range []struct {
		fields []Field
		want   string
	}{
		{[]Field{{Key: "", Kind: FieldString}}, "empty key"},
		{[]Field{{Key: "category", Kind: FieldString}}, "bound with WithAttrs"},
		{[]Field{{Key: "request_id", Kind: FieldString}}, "from the context"},
		{[]Field{{Key: "a", Kind: FieldInt}, {Key: "a", Kind: FieldString}}, "appears twice"},
		{[]Field{{Key: "a", Kind: 0}}, "unknown kind"},
		{[]Field{{Key: "a", Kind: FieldString}, {Key: "b", Kind: FieldString}, {Key: "c", Kind: FieldString}, {Key: "d", Kind: FieldString}, {Key: "e", Kind: FieldString}}, "more than 4 string fields"},
		{[]Field{{Key: "a", Kind: FieldInt}, {Key: "b", Kind: FieldBool}, {Key: "c", Kind: FieldDuration}, {Key: "d", Kind: FieldInt}}, "more than 3 numeric fields"},
	} {
		_, err := h.NewSchema(slog.LevelDebug, tc.fields...)
		require.Error(t, err, "%v", tc.fields)
		assert.Contains(t, err.Error(), tc.want)
	}
	other := newTestHandler(t, Options{})
	sc, err := other.NewSchema(slog.LevelDebug, requestSchemaFields...)
	require.NoError(t, err)
	err = h.HandleValues(context.Background(), time.Now(), "request", sc, &Values{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another Handler's session")
	own, err := h.NewSchema(slog.LevelDebug, requestSchemaFields...)
	require.NoError(t, err)
	assert.ErrorContains(t, h.HandleValues(context.Background(), time.Now(), "request", nil, &Values{}), "nil schema")
	assert.ErrorContains(t, h.HandleValues(context.Background(), time.Now(), "request", own, nil), "nil schema or values")
}

// TestValuesAndRecordsKeepTheirOrder logs a category's records through
// both HandleValues and Handle, interleaved, and reads them back in the
// order they were logged.
func TestValuesAndRecordsKeepTheirOrder(t *testing.T) {
	h := newTestHandler(t, Options{})
	requests := h.WithAttrs([]slog.Attr{slog.String("category", "requests")}).(*Handler)
	sc, err := h.NewSchema(slog.LevelDebug, requestSchemaFields...)
	require.NoError(t, err)
	ctx := context.Background()
	const n = 3000
	for i := range n {
		if i%3 == 0 {
			require.NoError(t, requests.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelDebug, "record", 0)))
		} else {
			v := Values{Str: [4]string{"GET", "/p", "id"}, Num: [3]int64{int64(i) * int64(time.Millisecond), 200, 1}}
			require.NoError(t, requests.HandleValues(ctx, time.Now(), "request", sc, &v))
		}
		if i%1000 == 999 {
			require.NoError(t, h.Flush())
		}
	}
	require.NoError(t, h.Close())

	f, err := os.Open(h.Path("requests"))
	require.NoError(t, err)
	defer f.Close()
	sc2 := bufio.NewScanner(f)
	i := 0
	for sc2.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc2.Bytes(), &line))
		if i%3 == 0 {
			assert.Equal(t, "record", line["msg"], "line %d", i)
		} else {
			assert.Equal(t, "request", line["msg"], "line %d", i)
			assert.Equal(t, float64(i), line["duration_ms"], "line %d", i)
			assert.Equal(t, "GET", line["method"])
			assert.Equal(t, float64(200), line["status_code"])
			assert.Nil(t, line["error"])
			assert.Contains(t, line, "error")
			assert.Equal(t, true, line["ok"])
		}
		i++
	}
	require.NoError(t, sc2.Err())
	assert.Equal(t, n, i)
}

func TestHandleValuesRedactsAsHandleDoes(t *testing.T) {
	h := newTestHandler(t, Options{RedactKeys: append(DefaultRedactKeys(), "ace_id")})
	requests := h.WithAttrs([]slog.Attr{slog.String("category", "requests")}).(*Handler)
	sc, err := h.NewSchema(slog.LevelDebug, requestSchemaFields...)
	require.NoError(t, err)
	v := Values{Str: [4]string{"GET", "/ace/getstream?token=s3cret&id=1", "94c2fd8f"}, Num: [3]int64{int64(time.Second), 200}}
	require.NoError(t, requests.HandleValues(context.Background(), time.Now(), "request", sc, &v))
	require.NoError(t, h.Close())
	data, err := os.ReadFile(h.Path("requests"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "s3cret")
	assert.NotContains(t, string(data), "94c2fd8f")
	var line map[string]any
	require.NoError(t, json.Unmarshal(data, &line))
	assert.Equal(t, Redacted, line["ace_id"])
	assert.Equal(t, float64(1000), line["duration_ms"])
}
