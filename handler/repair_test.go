package handler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartialLinesOfEarlierSessionsAreRepaired(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "20200101_000000_requests.jsonl")
	require.NoError(t, os.WriteFile(p, []byte("{\"a\":1}\n{\"a\":2}\n{\"a\":"), 0o640))
	whole := filepath.Join(dir, "20200101_000000_streams.jsonl")
	require.NoError(t, os.WriteFile(whole, []byte("{\"a\":1}\n"), 0o640))
	h := newTestHandler(t, Options{Dir: dir})
	assert.Len(t, readLines(t, p), 2)
	assert.Len(t, readLines(t, whole), 1)
	require.NoError(t, h.Close())
	assert.Equal(t, 1.0, num(t, readLines(t, h.Path("session"))[0]["repaired_files"]))
}

// TestDeadCustomSessionIsRepaired: a killed process whose session had a
// custom ID left cut last lines; the next start cuts them off, in its live
// file and in its segments alike.
func TestDeadCustomSessionIsRepaired(t *testing.T) {
	dir := t.TempDir()
	cut := map[string]int{ // file: whole lines
		"myproxy_requests.jsonl":            2,
		"myproxy_session.jsonl":             1,
		"myproxy.001_requests.jsonl":        1,
		"my-proxy_2_engine_selection.jsonl": 1,
	}
	for name := range cut {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("{\"a\":1}\n{\"a\":2}\n{\"a\":")[:len("{\"a\":1}\n")*cut[name]+5], 0o640))
	}
	h := newTestHandler(t, Options{Dir: dir})
	for name, n := range cut {
		assert.Len(t, readLines(t, filepath.Join(dir, name)), n, name)
	}
	require.NoError(t, h.Close())
	assert.Equal(t, float64(len(cut)), num(t, readLines(t, h.Path("session"))[0]["repaired_files"]))
}

// TestLiveCustomSessionIsNotRepaired: the files of a live session, whatever
// its ID, are never touched, even when their last line is cut (caught in
// the middle of a write), nor when their name could also be another, dead
// session's: myproxy_x_requests.jsonl is the live myproxy's x_requests, or
// the dead myproxy_x's requests.
func TestLiveCustomSessionIsNotRepaired(t *testing.T) {
	dir := t.TempDir()
	other := newTestHandler(t, Options{Dir: dir, SessionID: "myproxy", DefaultCategory: "x_requests"})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "myproxy_x_session.jsonl"), []byte("{\"a\":1}\n"), 0o640))
	inFlight := "{\"a\":1}\n{\"a\":"
	require.NoError(t, os.WriteFile(other.Path("x_requests"), []byte(inFlight), 0o640))
	require.NoError(t, os.WriteFile(other.Path("streams"), []byte(inFlight), 0o640))
	h := newTestHandler(t, Options{Dir: dir})
	for _, c := range []string{"x_requests", "streams"} {
		data, err := os.ReadFile(other.Path(c))
		require.NoError(t, err)
		assert.Equal(t, inFlight, string(data), c)
	}
	require.NoError(t, h.Close())
}
