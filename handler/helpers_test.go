package handler

import (
	"bufio"
	"bytes"
	"context"
	hexlib "encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// newTestHandler returns a Handler writing into a fresh temporary directory,
// closed when the test ends.
func newTestHandler(t testing.TB, opts Options) *Handler {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Stamp == nil {
		opts.Stamp = testStamp
	}
	h, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// readLines decodes every line of a file; each must be one JSON object
// ending in a newline.
func readLines(t testing.TB, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(data) == 0 {
		return nil
	}
	require.Equal(t, byte('\n'), data[len(data)-1], "%s does not end in a newline", path)
	var out []map[string]any
	for i, line := range bytes.Split(data[:len(data)-1], []byte{'\n'}) {
		out = append(out, decodeLine(t, line, path, i+1))
	}
	return out
}

func decodeLine(t testing.TB, line []byte, path string, n int) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "%s:%d is not JSON: %s", path, n, line)
	require.False(t, dec.More(), "%s:%d has more than one value", path, n)
	return m
}

// rawLines returns a file's lines without their newlines.
func rawLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	require.NoError(t, sc.Err())
	return out
}

// keys returns the top-level keys of a JSON object in the order written.
func keys(t testing.TB, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		out = append(out, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return out
}

// files lists the names in dir.
func files(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// only returns the single line of a category's file.
func only(t testing.TB, h *Handler, category string) map[string]any {
	t.Helper()
	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path(category))
	require.Len(t, lines, 1)
	return lines[0]
}

func num(t testing.TB, v any) float64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "%v (%T) is not a number", v, v)
	f, err := n.Float64()
	require.NoError(t, err)
	return f
}

// stampKey is the context key of the test stamp.
type stampKey struct{}

// withStamp returns a context whose records the test handlers stamp with
// st, as the facade's hook stamps a request's IDs.
func withStamp(ctx context.Context, st stamp) context.Context {
	return context.WithValue(ctx, stampKey{}, st)
}

// testStamp is the test handlers' Options.Stamp.
func testStamp(ctx context.Context) (string, [16]byte, [8]byte) {
	st, _ := ctx.Value(stampKey{}).(stamp)
	return st.RequestID, st.TraceID, st.SpanID
}

// traceOf reads a W3C trace and span ID in hex.
func traceOf(t testing.TB, traceID, spanID string) (tid [16]byte, sid [8]byte) {
	t.Helper()
	_, err := hexlib.Decode(tid[:], []byte(traceID))
	require.NoError(t, err)
	_, err = hexlib.Decode(sid[:], []byte(spanID))
	require.NoError(t, err)
	return tid, sid
}
