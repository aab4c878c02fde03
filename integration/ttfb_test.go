package integration_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/slogdebug"
)

// feed is an engine's stream the test hands out chunk by chunk: Read says
// so on reading (CopyStream has done with the chunk before, and waits for
// the engine), then waits for a chunk; closing chunks ends the stream.
// Only the test's goroutine calls its methods.
type feed struct {
	reading chan struct{}
	chunks  chan []byte
	waiting bool // Read said it reads, and waits for a chunk
}

func newFeed() *feed { return &feed{reading: make(chan struct{}), chunks: make(chan []byte)} }

func (f *feed) Read(p []byte) (int, error) {
	f.reading <- struct{}{}
	b, ok := <-f.chunks
	if !ok {
		return 0, io.EOF
	}
	return copy(p, b), nil
}

// blocked returns once CopyStream waits for the engine.
func (f *feed) blocked() {
	if !f.waiting {
		<-f.reading
		f.waiting = true
	}
}

// send hands CopyStream a chunk, once it waits for one.
func (f *feed) send() {
	f.blocked()
	f.chunks <- []byte(strings.Repeat("x", 1316))
	f.waiting = false
}

// wait moves the clock by d while CopyStream waits for the engine: its
// stall watch runs meanwhile, if due.
func (f *feed) wait(clk *integration.FakeClock, d time.Duration) {
	f.blocked()
	clk.Advance(d)
}

func (f *feed) end() {
	f.blocked()
	close(f.chunks)
}

// streamRig is a proxy's stream on a fake clock: Middleware around a
// handler that copies the feed with CopyStream.
type streamRig struct {
	log  *slogdebug.Logger
	clk  *integration.FakeClock
	feed *feed
	done chan struct{}
}

func newStreamRig(t *testing.T, cfg slogdebug.Config) *streamRig {
	t.Helper()
	clk := integration.NewFakeClock(time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC))
	integration.UseClock(t, clk)
	cfg.Enabled, cfg.Dir = true, t.TempDir()
	log, err := slogdebug.New(cfg, io.Discard)
	require.NoError(t, err)
	t.Cleanup(func() { log.Close() })
	r := &streamRig{log: log, clk: clk, feed: newFeed(), done: make(chan struct{})}
	h := integration.Middleware(log)(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		integration.CopyStream(req.Context(), log, w, r.feed, integration.Stream{ID: "abc|s1", AceID: "abc",
			Attrs: []slog.Attr{slog.String("engine_host", "10.0.0.7"), slog.Int("engine_port", 6878), slog.String("container_id", "0acef00d0001")}})
	}))
	go func() {
		defer close(r.done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/ace/getstream?id=abc", nil))
	}()
	return r
}

// play sends a chunk a second for d.
func (r *streamRig) play(d time.Duration) {
	for range int(d / time.Second) {
		r.feed.wait(r.clk, time.Second)
		r.feed.send()
	}
}

// finish ends the stream and returns the decoded files by category.
func (r *streamRig) finish(t *testing.T) map[string][]map[string]any {
	t.Helper()
	r.feed.end()
	<-r.done
	return r.files(t)
}

func (r *streamRig) files(t *testing.T) map[string][]map[string]any {
	t.Helper()
	require.NoError(t, r.log.Flush())
	out := map[string][]map[string]any{}
	for _, cat := range []string{"requests", "streams", "stress", "disconnects"} {
		out[cat] = readLines(t, r.log.Path(cat))
	}
	return out
}

func ofType(lines []map[string]any, typ string) (out []map[string]any) {
	for _, m := range lines {
		if m["event_type"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// TestTimeToFirstByteAndStalls (issue 22): an hour-long stream is no slow
// request; the wait before the first byte is (ttfb_ms); a stall in the
// middle fires stream_stalled while the stream is still open. On a fake
// clock, from the decoded files.
func TestTimeToFirstByteAndStalls(t *testing.T) {
	t.Run("a 60s stream whose first byte comes at once", func(t *testing.T) {
		r := newStreamRig(t, slogdebug.Config{})
		r.feed.send()
		r.play(60 * time.Second)
		files := r.finish(t)
		require.Len(t, files["requests"], 1)
		req := files["requests"][0]
		assert.Equal(t, 60000.0, req["duration_ms"])
		assert.Equal(t, 0.0, req["ttfb_ms"], "the first byte came at once")
		assert.Empty(t, ofType(files["stress"], "slow_request"), "a long stream is no slow request")
		assert.Empty(t, files["stress"])
		assert.Empty(t, files["disconnects"], "the request's line says how its stream ended")
		assert.Equal(t, 1000.0, req["max_stall_ms"], "a chunk a second")
	})

	t.Run("a stream whose first byte waits 6s", func(t *testing.T) {
		r := newStreamRig(t, slogdebug.Config{})
		r.feed.wait(r.clk, 6*time.Second)
		r.feed.send()
		r.play(30 * time.Second)
		files := r.finish(t)
		req := files["requests"][0]
		assert.Equal(t, 6000.0, req["ttfb_ms"])
		assert.Equal(t, 36000.0, req["duration_ms"])
		slow := ofType(files["stress"], "slow_request")
		require.Len(t, slow, 1, "exactly one")
		assert.Equal(t, 6000.0, slow[0]["ttfb_ms"])
		assert.Equal(t, 5000.0, slow[0]["threshold_ms"])
		assert.Equal(t, req["request_id"], slow[0]["request_id"])
		assert.Empty(t, ofType(files["stress"], "stream_stalled"), "the wait for the first byte is no stall")
		assert.Equal(t, 1000.0, files["requests"][0]["max_stall_ms"])
	})

	t.Run("a stream that stalls 8s in the middle", func(t *testing.T) {
		r := newStreamRig(t, slogdebug.Config{})
		r.feed.send()
		r.play(10 * time.Second)
		r.feed.wait(r.clk, 8*time.Second) // the engine sends nothing for 8s

		open := r.files(t) // the stream is still open: CopyStream waits for the engine
		assert.Empty(t, open["requests"], "no requests line yet: the stream is open")
		assert.Empty(t, open["disconnects"])
		stalled := ofType(open["stress"], "stream_stalled")
		require.Len(t, stalled, 1)
		ev := stalled[0]
		assert.GreaterOrEqual(t, ev["stall_ms"], 8000.0)
		assert.Equal(t, "WARN", ev["level"])
		assert.Equal(t, "abc|s1", ev["stream_id"])
		assert.Equal(t, "10.0.0.7", ev["engine_host"])
		assert.Equal(t, "0acef00d0001", ev["container_id"])
		assert.Equal(t, "engine", ev["waiting_on"])
		assert.NotEmpty(t, ev["request_id"])
		line := ofType(open["streams"], "stream_stalled")
		require.Len(t, line, 1, "the streams line that fired it")
		assert.Equal(t, ev["request_id"], line[0]["request_id"])

		r.feed.send() // it resumes
		r.play(5 * time.Second)
		files := r.finish(t)
		assert.Len(t, ofType(files["stress"], "stream_stalled"), 1, "one stall, one event")
		resumed := ofType(files["streams"], "stream_resumed")
		require.Len(t, resumed, 1)
		assert.Equal(t, 8000.0, resumed[0]["stall_ms"], "the whole stall")
		assert.Equal(t, 8000.0, files["requests"][0]["max_stall_ms"])
		assert.Equal(t, 0.0, files["requests"][0]["ttfb_ms"])
		assert.Empty(t, ofType(files["stress"], "slow_request"))
	})
}

// TestStallIsNoticedAtItsThreshold: the clock moving a second at a time,
// as a real one does, an 8s stall is reported once, when it passes the
// threshold (5s), while the stream waits; its whole length comes with
// stream_resumed and max_stall_ms.
func TestStallIsNoticedAtItsThreshold(t *testing.T) {
	r := newStreamRig(t, slogdebug.Config{})
	r.feed.send()
	r.play(3 * time.Second)
	for i := 1; i <= 8; i++ {
		r.feed.wait(r.clk, time.Second)
		stalled := ofType(r.files(t)["stress"], "stream_stalled")
		if i < 5 {
			require.Empty(t, stalled, "%ds without a byte", i)
			continue
		}
		require.Len(t, stalled, 1, "%ds without a byte: reported once", i)
		assert.Equal(t, 5000.0, stalled[0]["stall_ms"], "at the threshold")
		assert.Equal(t, "Stream stalled: no bytes for 5.00s (threshold 5s), waiting on the engine", stalled[0]["description"])
	}
	r.feed.send()
	r.play(2 * time.Second)
	files := r.finish(t)
	resumed := ofType(files["streams"], "stream_resumed")
	require.Len(t, resumed, 1)
	assert.Equal(t, 8000.0, resumed[0]["stall_ms"])
	assert.Equal(t, 8000.0, files["requests"][0]["max_stall_ms"])
	assert.Len(t, ofType(files["stress"], "stream_stalled"), 1)
}

// TestStallsOfAStream: a second stall is a second event; a stream that
// ends stalled (its engine gives up) has no stream_resumed, and its
// max_stall_ms runs to the end; with DEBUG_STRESS_STALL=0 nothing is
// watched but max_stall_ms is still measured.
func TestStallsOfAStream(t *testing.T) {
	r := newStreamRig(t, slogdebug.Config{StallThreshold: 2 * time.Second})
	r.feed.send()
	r.feed.wait(r.clk, 3*time.Second)
	r.feed.send()
	r.play(time.Second)
	r.feed.wait(r.clk, 12*time.Second)
	files := r.finish(t)
	stalled := ofType(files["stress"], "stream_stalled")
	require.Len(t, stalled, 2)
	assert.Equal(t, 3000.0, stalled[0]["stall_ms"])
	assert.Equal(t, 2000.0, stalled[0]["threshold_ms"])
	assert.Equal(t, 12000.0, stalled[1]["stall_ms"])
	assert.Len(t, ofType(files["streams"], "stream_resumed"), 1, "the second stall ended with the stream")
	assert.Equal(t, 12000.0, files["requests"][0]["max_stall_ms"])

	off := newStreamRig(t, slogdebug.Config{StallThreshold: -1})
	off.feed.send()
	off.feed.wait(off.clk, 30*time.Second)
	off.feed.send()
	files = off.finish(t)
	assert.Empty(t, ofType(files["streams"], "stream_stalled"))
	assert.Empty(t, files["stress"])
	assert.Equal(t, 30000.0, files["requests"][0]["max_stall_ms"])
}

// blockingWriter is a client that takes its first write, then blocks in
// the next until released.
type blockingWriter struct {
	*httptest.ResponseRecorder
	writes  int
	entered chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	if w.writes++; w.writes == 2 {
		w.entered <- struct{}{}
		<-w.release
	}
	return w.ResponseRecorder.Write(p)
}

// TestStallWaitingOnTheClient: a client that takes no bytes stalls the
// stream too; the event says the copy waits on the client.
func TestStallWaitingOnTheClient(t *testing.T) {
	clk := integration.NewFakeClock(time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC))
	integration.UseClock(t, clk)
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	f := newFeed()
	w := &blockingWriter{ResponseRecorder: httptest.NewRecorder(), entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan integration.StreamResult)
	go func() {
		done <- integration.CopyStream(context.Background(), log, w, f, integration.Stream{ID: "def|s2", AceID: "def"})
	}()
	f.send()
	f.send()
	<-w.entered // CopyStream writes the second chunk; the client takes nothing
	clk.Advance(6 * time.Second)
	close(w.release)
	f.end()
	res := <-done
	assert.Equal(t, 6*time.Second, res.MaxStall)
	require.NoError(t, log.Flush())
	stalled := ofType(readLines(t, log.Path("stress")), "stream_stalled")
	require.Len(t, stalled, 1)
	assert.Equal(t, "client", stalled[0]["waiting_on"])
	assert.Equal(t, 6000.0, stalled[0]["stall_ms"])
}

// TestTTFBIsTheFirstByteOfTheBody: headers and a flush are no first byte;
// ReadFrom's first bytes are (io.Copy into the writer); a response without
// a body waited for all of it; a 503 after a 6s wait is a slow start.
func TestTTFBIsTheFirstByteOfTheBody(t *testing.T) {
	clk := integration.NewFakeClock(time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC))
	integration.UseClock(t, clk)
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	handlers := map[string]http.HandlerFunc{
		"/headers-then-body": func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			clk.Advance(3 * time.Second)
			_, _ = io.WriteString(w, "x")
			clk.Advance(2 * time.Second)
		},
		"/readfrom": func(w http.ResponseWriter, _ *http.Request) {
			clk.Advance(2 * time.Second)
			n, err := io.Copy(w, &tickingReader{clk: clk, steps: []time.Duration{time.Second, 4 * time.Second}})
			assert.NoError(t, err)
			assert.Equal(t, int64(20), n)
		},
		"/no-body": func(w http.ResponseWriter, _ *http.Request) {
			clk.Advance(4 * time.Second)
			w.WriteHeader(http.StatusNoContent)
		},
		"/unavailable": func(w http.ResponseWriter, _ *http.Request) {
			clk.Advance(6 * time.Second)
			http.Error(w, "no engine available, retry in 30 s", http.StatusServiceUnavailable)
		},
	}
	mw := integration.Middleware(log)
	for _, path := range []string{"/headers-then-body", "/readfrom", "/no-body", "/unavailable"} {
		mw(handlers[path]).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	require.NoError(t, log.Flush())
	got := map[string][2]float64{}
	for _, m := range readLines(t, log.Path("requests")) {
		got[m["path"].(string)] = [2]float64{m["ttfb_ms"].(float64), m["duration_ms"].(float64)}
		if m["path"] == "/readfrom" {
			assert.Equal(t, 20.0, m["bytes"])
		}
	}
	assert.Equal(t, map[string][2]float64{"/headers-then-body": {3000, 5000}, "/readfrom": {3000, 7000}, "/no-body": {4000, 4000},
		"/unavailable": {6000, 6000}}, got, "[ttfb_ms, duration_ms]")
	slow := ofType(readLines(t, log.Path("stress")), "slow_request")
	require.Len(t, slow, 1)
	assert.Equal(t, "/unavailable", slow[0]["path"])
	assert.Equal(t, 503.0, slow[0]["status_code"])
}

// tickingReader returns ten bytes a read, moving the clock by its next
// step before each; then EOF.
type tickingReader struct {
	clk   *integration.FakeClock
	steps []time.Duration
}

func (r *tickingReader) Read(p []byte) (int, error) {
	if len(r.steps) == 0 {
		return 0, io.EOF
	}
	r.clk.Advance(r.steps[0])
	r.steps = r.steps[1:]
	return copy(p, "0123456789"), nil
}
