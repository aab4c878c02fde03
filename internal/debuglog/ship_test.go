package debuglog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flakyCH stands in front of the tests' ClickHouse server: it passes each
// request on, but the first lose INSERTs it passes on and then answers 502
// (the server stored the batch, the answer was lost: the shipper cannot
// know), and the down INSERTs after them it answers 503 without passing
// them on (a server down).
type flakyCH struct {
	mu         sync.Mutex
	target     string
	lose, down int
	inserts    int // INSERTs that reached the server
}

func (f *flakyCH) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	insert := strings.HasPrefix(r.URL.Query().Get("query"), "INSERT")
	f.mu.Lock()
	lost := insert && f.lose > 0
	if lost {
		f.lose--
	}
	down := insert && !lost && f.down > 0
	if down {
		f.down--
	}
	if insert && !down {
		f.inserts++
	}
	f.mu.Unlock()
	if down {
		http.Error(w, "the server is down", http.StatusServiceUnavailable)
		return
	}
	resp, err := http.Post(f.target+"?"+r.URL.RawQuery, "text/plain", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if lost {
		io.Copy(io.Discard, resp.Body)
		http.Error(w, "the answer was lost on the way back", http.StatusBadGateway)
		return
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// TestShipRetriesWithoutSendingTwice: a batch whose answer was lost (the
// server stored it) is not sent again: the shipper asks the store first;
// a server that is down is retried, waiting longer each time; every line
// is stored once.
func TestShipRetriesWithoutSendingTwice(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := t.TempDir()
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:%02d.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"r%d","status_code":200,"duration_ms":%d}`+"\n", i%60, i, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(b.String()), 0o640))
	flaky := &flakyCH{target: url, lose: 2, down: 3}
	srv := httptest.NewServer(flaky)
	defer srv.Close()
	ch, err := newCHClient(srv.URL+"/", table, time.Minute)
	require.NoError(t, err)
	var warnings bytes.Buffer
	s := newShipper(ch, "h", filepath.Join(t.TempDir(), "ship.json"), []followDir{{path: dir}}, newWarner(&warnings), io.Discard)
	s.maxLines = 30
	var waits []time.Duration
	s.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	require.NoError(t, s.run(context.Background(), true, time.Millisecond))

	assert.Equal(t, "100\n", chQuery(t, url, "SELECT count() FROM "+table), "every line once, no FINAL needed")
	assert.Equal(t, "100\n", chQuery(t, url, "SELECT uniqExact(offset) FROM "+table))
	assert.Equal(t, 4, flaky.inserts, "four batches reached the server; none a second time")
	// The first batch's answer lost: after 250 ms the store says it has it,
	// so it is not sent again; the second's the same; the third meets the
	// server down three times: 250 ms, 500 ms, 1 s.
	assert.Equal(t, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}, waits)
	assert.Contains(t, warnings.String(), "the answer was lost on the way back")
	assert.Contains(t, warnings.String(), "trying again in 250ms (nothing is lost")
}

// TestShipTruncatedFile: a file cut short and written again (copytruncate)
// is shipped again from its start as a new generation, whose lines do not
// collapse with the first's; a restart with no checkpoint ships nothing
// twice (the store says how far it got).
func TestShipTruncatedFile(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	require.NoError(t, os.Mkdir(dir, 0o750))
	path := filepath.Join(dir, "20261126_101714_requests.jsonl")
	line := func(i int) string {
		return fmt.Sprintf(`{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:%02d.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"r%d"}`+"\n", i, i)
	}
	require.NoError(t, os.WriteFile(path, []byte(line(1)+line(2)+line(3)), 0o640))
	ship := func(ck string) {
		t.Helper()
		runOK(t, "ship", "--clickhouse", url, "--table", table, "--host", "h", "--checkpoint", ck, "--once", dir)
	}
	ck := filepath.Join(root, "ck.json")
	ship(ck)
	// copytruncate: cut, then written again (shorter than before).
	require.NoError(t, os.Truncate(path, 0))
	require.NoError(t, os.WriteFile(path, []byte(line(4)), 0o640))
	ship(ck)
	require.NoError(t, os.Remove(ck)) // lost: the store knows
	ship(ck)
	assert.Equal(t, "0\t3\n1\t1\n", chQuery(t, url, "SELECT file_gen, count() FROM "+table+" GROUP BY file_gen ORDER BY file_gen"))
	// Read back: each generation is a file of its own, all four lines.
	assert.Contains(t, runOK(t, "summary", "--clickhouse", url, "--table", table), "20261126_101714  4 lines")
	// A time range, and a host, read in the store.
	assert.Contains(t, runOK(t, "summary", "--clickhouse", url, "--table", table, "--since", "2026-11-26T10:17:03Z", "--until", "2026-11-26T10:17:04.5Z"), "20261126_101714  2 lines")
	assert.Contains(t, runFails(t, "summary", "--clickhouse", url, "--table", table, "--host", "other"), "holds no lines of --host other")
}

// runOK runs debuglog and returns its output; it must succeed.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := RunContext(context.Background(), args, &stdout, &stderr)
	require.Equal(t, 0, code, "%s: %s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// runFails runs debuglog, which must exit 1, and returns what it said on
// stderr.
func runFails(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := RunContext(context.Background(), args, &stdout, &stderr)
	assert.Equal(t, 1, code, "%s: %s", strings.Join(args, " "), stderr.String())
	return stderr.String()
}

// TestStoreErrorsSayWhatToDo: the store's usage errors, and a server that
// is not there, need no server.
func TestStoreErrorsSayWhatToDo(t *testing.T) {
	ports, err := freePorts(1)
	require.NoError(t, err)
	nobody := fmt.Sprintf("http://127.0.0.1:%d/", ports[0])
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"ship", "somedir"}, 2, "ship wants --clickhouse URL"},
		{[]string{"ship", "--clickhouse", "127.0.0.1:8123", "somedir"}, 2, "want the URL of ClickHouse's HTTP interface"},
		{[]string{"ship", "--clickhouse", nobody, "--table", "a;b", "somedir"}, 2, "--table \"a;b\": want a table name"},
		{[]string{"ship", "--clickhouse", nobody, "no/such/dir"}, 1, "not a directory"},
		{[]string{"summary", "--host", "a", "somedir"}, 2, "they want --clickhouse URL"},
		{[]string{"summary", "--clickhouse", nobody, "somedir"}, 2, "either directories or --clickhouse URL"},
		{[]string{"correlate", "--clickhouse", nobody, "--since", "10:17:16"}, 2, "give a whole time"},
		{[]string{"correlate", "--clickhouse", nobody}, 1, "cannot reach ClickHouse at " + nobody},
		{[]string{"summary", "--clickhouse", nobody}, 1, "is the server running"},
	} {
		var stdout, stderr bytes.Buffer
		code := RunContext(context.Background(), c.args, &stdout, &stderr)
		assert.Equal(t, c.code, code, "%v: %s", c.args, stderr.String())
		assert.Contains(t, stderr.String(), c.stderr, "%v", c.args)
	}
}

// TestCheckpointRoundTrip: a checkpoint written is read back the same;
// damaged ones are refused, saying why.
func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.json")
	c := &checkpoint{Version: checkpointVersion, Host: "h", Table: "t", Files: []checkpointEntry{
		{Dev: 2, Ino: 9, shipPos: shipPos{Gen: 1, Offset: 200, Line: 3, LastStart: 100, Last: []byte("{\"a\":1}\n"), Path: "/x/y.jsonl"}},
		{Dev: 1, Ino: 5, shipPos: shipPos{Offset: 0, Last: []byte{}}},
	}}
	require.NoError(t, writeCheckpoint(path, c))
	got, err := loadCheckpoint(path)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	none, err := loadCheckpoint(path + ".missing")
	require.NoError(t, err)
	assert.Nil(t, none)
	for text, want := range map[string]string{
		`{"version":2,"host":"h","table":"t","files":[]}`:                                                                           "version 2",
		`{"version":1,"host":"h","table":"t","files":[{"dev":1,"ino":1,"offset":5,"last_start":9}]}`:                                "begins after its offset",
		`{"version":1,"host":"h","table":"t","files":[{"dev":1,"ino":1},{"dev":1,"ino":1}]}`:                                        "listed twice",
		`{"version":1,"host":"h","table":"t","files":[{"dev":1,"ino":1,"offset":-1}]}`:                                              "negative",
		`{"version":1,"host":"h","table":"t","files":[]} x`:                                                                         "more after",
		`{"version":1,"host":"h","table":"t","extra":1}`:                                                                            "unknown field",
		`{"version":1,"host":"h","table":"t","files":[{"dev":1,"ino":1,"offset":500,"last":"` + strings.Repeat("QUFB", 44) + `"}]}`: "more than 128",
	} {
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		_, err := loadCheckpoint(path)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want)
		assert.Contains(t, err.Error(), "remove it to ship again")
	}
}

// TestTSVRoundTrip: a field escaped for ClickHouse's TabSeparated comes
// back as it was, every byte.
func TestTSVRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a\tb\nc\\d\re\x00f", "\xff\xfe invalid UTF-8", `\N`, `ends with \`} {
		assert.Equal(t, s, string(tsvUnescape(tsvEscape(nil, []byte(s)))))
	}
	assert.Equal(t, `'it\'s \\ \0'`, sqlQuote("it's \\ \x00"))
}

// TestShipStoppedWhileServerDown: SIGTERM (ctx) while the server is down
// ends the run at once, saying what was not acknowledged; the next run
// ships it, once.
func TestShipStoppedWhileServerDown(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := t.TempDir()
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:%02d.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"r%d"}`+"\n", i, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(b.String()), 0o640))
	ck := filepath.Join(t.TempDir(), "ship.json")
	flaky := &flakyCH{target: url, down: 1 << 30}
	srv := httptest.NewServer(flaky)
	defer srv.Close()
	ch, err := newCHClient(srv.URL+"/", table, time.Minute)
	require.NoError(t, err)
	var warnings bytes.Buffer
	s := newShipper(ch, "h", ck, []followDir{{path: dir}}, newWarner(&warnings), io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	s.sleep = func(context.Context, time.Duration) error { cancel(); return ctx.Err() } // SIGTERM during the back-off
	require.NoError(t, s.run(ctx, false, time.Millisecond), "stopped: ship's normal end")
	assert.Contains(t, warnings.String(), "stopped with 10 lines not acknowledged")
	assert.Equal(t, "0\n", chQuery(t, url, "SELECT count() FROM "+table))

	runOK(t, "ship", "--clickhouse", url, "--table", table, "--host", "h", "--checkpoint", ck, "--once", dir)
	assert.Equal(t, "10\n", chQuery(t, url, "SELECT count() FROM "+table))
}

// TestShipRotatedFile: the live file renamed away (the library's rotation)
// and a new one opened under its name: both shipped, each line once, and
// read from the store as two files.
func TestShipRotatedFile(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := t.TempDir()
	live := filepath.Join(dir, "20261126_101714_requests.jsonl")
	line := func(i int) string {
		return fmt.Sprintf(`{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:%02d.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"r%d"}`+"\n", i, i)
	}
	ck := filepath.Join(t.TempDir(), "ship.json")
	args := []string{"ship", "--clickhouse", url, "--table", table, "--host", "h", "--checkpoint", ck, "--once", dir}
	require.NoError(t, os.WriteFile(live, []byte(line(1)+line(2)), 0o640))
	runOK(t, args...)
	f, err := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(line(3)) // written before the rename, shipped after it
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(live, filepath.Join(dir, "20261126_101714.1_requests.jsonl")))
	require.NoError(t, os.WriteFile(live, []byte(line(4)), 0o640))
	runOK(t, args...)
	runOK(t, args...)
	assert.Equal(t, "4\t4\n", chQuery(t, url, "SELECT count(), uniqExact(request_id) FROM "+table))
	assert.Equal(t, "2\n", chQuery(t, url, "SELECT uniqExact(file_ino) FROM "+table))
	out := runOK(t, "summary", "--clickhouse", url, "--table", table)
	assert.Contains(t, out, "20261126_101714  4 lines")
}

// TestFollowSkipsLineOverMaxLine: a line longer than maxLine, read in
// budgets as ship reads (and in 64 KiB chunks), is skipped whole, with a
// warning; the lines around it are handed over once, at their offsets,
// and the file is not taken for rewritten (read again and again).
func TestFollowSkipsLineOverMaxLine(t *testing.T) {
	dir := t.TempDir()
	first := `{"timestamp":"2026-11-26T10:17:14Z","msg":"a"}` + "\n"
	long := `{"msg":"` + strings.Repeat("y", maxLine+(1<<20)) + `"}` + "\n"
	after := `{"timestamp":"2026-11-26T10:17:15Z","msg":"b"}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(first+long+after+"\n"), 0o640))
	var warnings bytes.Buffer
	fw := newFollower([]followDir{{path: dir, system: systemProxy}}, newWarner(&warnings))
	defer fw.close()
	type got struct {
		start int64
		gen   uint32
		line  string
	}
	var lines []got
	fw.resume = func(*followed) {}
	fw.lines = func(t *followed, start int64, line []byte) bool {
		lines = append(lines, got{start, t.gen, string(line[:min(len(line), 60)])})
		return true
	}
	fw.budget = 1 << 20
	for range 20 { // more polls than the file needs: nothing more comes
		fw.poll(context.Background())
	}
	assert.Equal(t, []got{{0, 0, strings.TrimSuffix(first, "\n")}, {int64(len(first) + len(long)), 0, after}}, lines)
	assert.Contains(t, warnings.String(), "longer than")
	assert.NotContains(t, warnings.String(), "truncated")
}

// TestShipRefusesTableOfAnotherSchema: a table of that name that is not
// ship's (other columns, or other types) is not retried for ever, as a
// server down is: ship ends, saying so and what to do, and inserts nothing.
func TestShipRefusesTableOfAnotherSchema(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(`{"msg":"a"}`+"\n"), 0o640))
	for _, schema := range []string{
		"(host String, x UInt8) ENGINE = MergeTree ORDER BY host",
		strings.Replace(strings.TrimPrefix(fmt.Sprintf(chSchema, ""), "CREATE TABLE IF NOT EXISTS "), "offset        UInt64", "offset        UInt32", 1),
	} {
		chQuery(t, url, "DROP TABLE IF EXISTS "+table)
		chQuery(t, url, "CREATE TABLE "+table+" "+schema)
		stderr := runFails(t, "ship", "--clickhouse", url, "--table", table, "--host", "h",
			"--checkpoint", filepath.Join(t.TempDir(), "ck.json"), "--once", dir)
		assert.Contains(t, stderr, "not the table debuglog ship makes")
		assert.Contains(t, stderr, "give ship a --table of its own")
		assert.NotContains(t, stderr, "trying again")
		assert.Equal(t, "0\n", chQuery(t, url, "SELECT count() FROM "+table))
	}
}

// TestShipOnceEndsWhenRefused: with --once, an answer that says the
// request is wrong (a user or password, a database that is not there: a
// 4xx) ends ship with its message, as trying again would not help; a
// server down or failing (5xx) is tried again.
func TestShipOnceEndsWhenRefused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(`{"msg":"a"}`+"\n"), 0o640))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Code: 192, e.displayText() = DB::Exception: Unknown user bad, e.what() = DB::Exception", http.StatusUnauthorized)
	}))
	defer srv.Close()
	stderr := runFails(t, "ship", "--clickhouse", srv.URL+"/", "--host", "h",
		"--checkpoint", filepath.Join(t.TempDir(), "ck.json"), "--once", dir)
	assert.Contains(t, stderr, "Unknown user bad")
	assert.NotContains(t, stderr, "trying again")
}

// TestStoreTimesPastNanoseconds: --since and --until beyond what int64
// nanoseconds hold (years before 1678, after 2262) select as the time
// says, not as a wrapped number: after everything is nothing, before
// everything is everything.
func TestStoreTimesPastNanoseconds(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"),
		[]byte(`{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:14Z","level":"DEBUG","category":"requests","msg":"request"}`+"\n"), 0o640))
	runOK(t, "ship", "--clickhouse", url, "--table", table, "--host", "h", "--checkpoint", filepath.Join(t.TempDir(), "ck.json"), "--once", dir)
	for _, args := range [][]string{{"--until", "2300-01-01T00:00:00Z"}, {"--since", "1600-01-01T00:00:00Z"}} {
		assert.Contains(t, runOK(t, append([]string{"summary", "--clickhouse", url, "--table", table}, args...)...), "1 lines", "%v", args)
	}
	for _, args := range [][]string{{"--since", "2300-01-01T00:00:00Z"}, {"--until", "1600-01-01T00:00:00Z"}} {
		assert.Contains(t, runFails(t, append([]string{"summary", "--clickhouse", url, "--table", table}, args...)...),
			"holds no lines between --since and --until", "%v", args)
	}
}

// TestShipRefusesServerThatIsNotClickHouse: a server that answers every
// request 200 with nothing (a proxy or another program at that URL) would
// take every batch and store none; ship ends saying so, its checkpoint
// not written.
func TestShipRefusesServerThatIsNotClickHouse(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(`{"msg":"a"}`+"\n"), 0o640))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	ck := filepath.Join(t.TempDir(), "ck.json")
	assert.Contains(t, runFails(t, "ship", "--clickhouse", srv.URL+"/", "--host", "h", "--checkpoint", ck, dir), "is this ClickHouse's HTTP interface")
	assert.NoFileExists(t, ck)
}

// TestShipRemovesCheckpointLeftovers: a shipper killed while writing its
// checkpoint leaves its temporary file; the next run removes such files
// (its own checkpoint's only), so crashes do not pile them up.
func TestShipRemovesCheckpointLeftovers(t *testing.T) {
	ckDir := t.TempDir()
	ck := filepath.Join(ckDir, "ship.json")
	for _, name := range []string{".ship.json.123.tmp", ".ship.json.456.tmp", ".other.json.789.tmp", "keep.tmp"} {
		require.NoError(t, os.WriteFile(filepath.Join(ckDir, name), []byte("{"), 0o640))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the server is down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ch, err := newCHClient(srv.URL+"/", chTable, time.Minute)
	require.NoError(t, err)
	s := newShipper(ch, "h", ck, []followDir{{path: t.TempDir()}}, newWarner(io.Discard), io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	s.sleep = func(context.Context, time.Duration) error { cancel(); return ctx.Err() }
	require.NoError(t, s.run(ctx, false, time.Millisecond))
	entries, err := os.ReadDir(ckDir)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	assert.ElementsMatch(t, []string{"keep.tmp", ".other.json.789.tmp"}, left)
}

// staleCH stands in front of the tests' server: the first INSERT is
// passed on all but its last byte (the server runs it, waiting for the
// rest) and answered 502 at once, as a --timeout cut short while the
// server still works on it; the rest is sent (release) after the next
// query that asks the store how far it got, or at the shipper's second
// back-off, whichever comes first.
type staleCH struct {
	t        *testing.T
	target   string
	mu       sync.Mutex
	held     *io.PipeWriter
	rest     []byte
	done     chan struct{}
	released bool
}

func (s *staleCH) release() {
	s.mu.Lock()
	if s.released || s.held == nil {
		s.mu.Unlock()
		return
	}
	s.released = true
	s.mu.Unlock()
	s.held.Write(s.rest)
	s.held.Close()
	<-s.done // the server stored it
}

func (s *staleCH) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	query := r.URL.Query().Get("query")
	s.mu.Lock()
	first := strings.HasPrefix(query, "INSERT") && s.held == nil
	if first {
		pr, pw := io.Pipe()
		s.held, s.rest, s.done = pw, body[len(body)-1:], make(chan struct{})
		go func() {
			defer close(s.done)
			resp, err := http.Post(s.target+"?"+r.URL.RawQuery, "text/plain", pr)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		go pw.Write(body[:len(body)-1])
	}
	s.mu.Unlock()
	if first { // answered once the server runs it
		require.Eventually(s.t, func() bool {
			return chQuery(s.t, s.target, "SELECT count() FROM system.processes WHERE query LIKE 'INSERT INTO t_%'") != "0\n"
		}, time.Minute, 10*time.Millisecond)
		http.Error(w, "no answer within --timeout", http.StatusBadGateway)
		return
	}
	resp, err := http.Post(s.target+"?"+r.URL.RawQuery, "text/plain", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	if strings.Contains(string(body), "max(offset)") {
		s.release() // the store was asked before the cut-short INSERT ended
	}
}

// bigLines is a directory with a file of 20 lines of 100 KB: 2 MB, so
// that the server runs its INSERT once it has read a buffer (1 MiB) of it,
// before the whole batch came.
func bigLines(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, `{"session_id":"20261126_101714","timestamp":"2026-11-26T10:17:%02d.000000000Z","level":"DEBUG","category":"requests","msg":"request","request_id":"r%d","pad":"%s"}`+"\n", i, i, strings.Repeat("x", 100000))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20261126_101714_requests.jsonl"), []byte(b.String()), 0o640))
	return dir
}

// TestShipWaitsForAttemptStillRunning: an INSERT cut short on the
// shipper's side (--timeout) may still run on the server; the store is
// asked how far it got only once that attempt has ended, so the batch is
// not sent a second time beside it (plain count() stays exact).
func TestShipWaitsForAttemptStillRunning(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := bigLines(t)
	stale := &staleCH{t: t, target: url}
	srv := httptest.NewServer(stale)
	defer srv.Close()
	ch, err := newCHClient(srv.URL+"/", table, time.Minute)
	require.NoError(t, err)
	s := newShipper(ch, "h", filepath.Join(t.TempDir(), "ship.json"), []followDir{{path: dir}}, newWarner(io.Discard), io.Discard)
	sleeps := 0
	s.sleep = func(context.Context, time.Duration) error {
		if sleeps++; sleeps == 2 {
			stale.release()
		}
		return nil
	}
	require.NoError(t, s.run(context.Background(), true, time.Millisecond))
	stale.release()
	assert.Equal(t, "20\n", chQuery(t, url, "SELECT count() FROM "+table), "every line once, no FINAL needed")
}

// TestShipRestartWaitsForAKilledShippersInsert: a shipper stopped while
// the server still runs its INSERT (killed, or given up on at --timeout
// and then stopped) leaves it running; the next shipper of that host asks
// the store how far it got only once that INSERT has ended, so it does
// not send the batch a second time beside it.
func TestShipRestartWaitsForAKilledShippersInsert(t *testing.T) {
	url := clickhouseURL(t)
	table := testTable(t)
	dir := bigLines(t)
	stale := &staleCH{t: t, target: url}
	srv := httptest.NewServer(stale)
	defer srv.Close()
	checkpoint := filepath.Join(t.TempDir(), "ship.json")
	newShip := func() *shipper {
		ch, err := newCHClient(srv.URL+"/", table, time.Minute)
		require.NoError(t, err)
		return newShipper(ch, "h", checkpoint, []followDir{{path: dir}}, newWarner(io.Discard), io.Discard)
	}

	// The first shipper stops (its context ends) after its INSERT was cut
	// short, the server still reading it.
	first := newShip()
	ctx, stop := context.WithCancel(context.Background())
	first.sleep = func(context.Context, time.Duration) error { stop(); return ctx.Err() }
	require.NoError(t, first.run(ctx, true, time.Millisecond))
	assert.Equal(t, "0\n", chQuery(t, url, "SELECT count() FROM "+table), "nothing stored yet")

	// The next one waits for it: the held INSERT ends at its first back-off.
	next := newShip()
	next.sleep = func(context.Context, time.Duration) error { stale.release(); return nil }
	require.NoError(t, next.run(context.Background(), true, time.Millisecond))
	stale.release()
	assert.Equal(t, "20\n", chQuery(t, url, "SELECT count() FROM "+table), "every line once, no FINAL needed")
}
