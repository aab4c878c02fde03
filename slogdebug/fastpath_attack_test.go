package slogdebug

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/stress"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logOddValues logs each fast-path helper with values at the edges, one
// record at a time (flushed after each, so that a tiny queue takes it).
func logOddValues(t *testing.T, l *Logger) {
	t.Helper()
	ctx := reqid.With(context.Background(), reqid.IDs{RequestID: "4bf92f3577b34da6", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"})
	huge := strings.Repeat("é", 40000)
	invalid := "\xff\xfe\x00\u2028</script>\x1b[31m"
	secretURL := "http://user:pa55@10.0.0.5:6878/ace/getstream?id=x&token=s3cret&api_key=k"
	durs := []time.Duration{-time.Second, math.MinInt64, math.MaxInt64, 999999}
	for _, lg := range []*Logger{l, l.WithGroup("auth"), l.With("request_id", "mine"), l.WithGroup("g").With("request_id", "grp"), l.With("password", "p").WithGroup("x"), l.With("category", "other")} {
		for _, d := range durs {
			for _, s := range []string{"", huge, invalid, secretURL, strings.Repeat("x", 300)} {
				lg.LogRequest(ctx, s, s, d, -1, s)
				require.NoError(t, l.Flush())
				lg.LogEngineSelection(ctx, acestream.EngineSelection{Operation: s, Host: s, Port: math.MinInt, ContainerID: s, Duration: d})
				require.NoError(t, l.Flush())
				lg.LogProvisioning(ctx, s, d, true, nil, math.MaxInt)
				require.NoError(t, l.Flush())
				lg.LogStreamEvent(ctx, acestream.StreamEvent{Type: s, StreamID: s, EngineID: s, Duration: d})
				require.NoError(t, l.Flush())
				lg.LogDisconnect(ctx, acestream.Disconnect{StreamID: s, AceID: s, Reason: s, BytesCopied: math.MinInt64, Duration: d})
				require.NoError(t, l.Flush())
			}
		}
	}
}

func compareFastAndFanOut(t *testing.T, cfg Config) {
	t.Helper()
	fast, _ := newDebugLogger(t, cfg)
	slowCfg := cfg
	slowCfg.ConsoleCategories, slowCfg.ConsoleLevel = true, slog.LevelDebug
	slow, _ := newDebugLogger(t, slowCfg)
	require.NotNil(t, fast.fast(idxRequests))
	require.Nil(t, slow.fast(idxRequests))
	logOddValues(t, fast)
	logOddValues(t, slow)
	for _, cat := range []string{category.Requests, category.EngineSelection, category.Provisioning, category.Streams, category.Disconnects, "other", category.Stress} {
		want := rawLinesMaybe(t, slow, cat)
		got := rawLinesMaybe(t, fast, cat)
		require.Equal(t, len(want), len(got), cat)
		for i := range want {
			require.Equal(t, want[i], got[i], "%s line %d", cat, i)
		}
	}
	assert.Equal(t, slow.Stats().Dropped, fast.Stats().Dropped)
	assert.Equal(t, slow.Stats().Failed, fast.Stats().Failed)
}

func rawLinesMaybe(t *testing.T, l *Logger, cat string) []string {
	t.Helper()
	if !fileExists(l.Path(cat)) {
		return nil
	}
	return rawLines(t, l, cat)
}

func TestFastPathOddValuesMatchFanOut(t *testing.T) {
	t.Parallel() // each waits on its writer, 1200 flushes
	compareFastAndFanOut(t, Config{RedactKeys: []string{"path", "duration", "method"}})
}

func TestFastPathOddValuesTinyLinesMatchFanOut(t *testing.T) {
	t.Parallel() // each waits on its writer, 1200 flushes
	compareFastAndFanOut(t, Config{QueueBytes: 256, BlockWhenFull: true})
}

func TestFastPathOddValuesSmallLinesMatchFanOut(t *testing.T) {
	t.Parallel() // each waits on its writer, 1200 flushes
	// Blocking, nothing is dropped: the stress events are the same.
	compareFastAndFanOut(t, Config{QueueBytes: 1000, BlockWhenFull: true, RedactKeys: []string{"ace_id"}})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readCategoryAll reads a category's segments, in order, then its live file.
func readCategoryAll(t *testing.T, l *Logger, cat string) []map[string]any {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(l.Dir(), l.SessionID()+".*_"+cat+".jsonl"))
	require.NoError(t, err)
	sort.Strings(segs)
	var out []map[string]any
	for _, p := range append(segs, l.Path(cat)) {
		out = append(out, readLines(t, p)...)
	}
	return out
}

// TestMixedPathsKeepCallOrder: goroutines log a category through the
// fast path, through the fan-out (an extra attribute), through plain slog,
// with a small queue (the writer behind, callers encoding), rotation, and
// debug mode switched off and on: each goroutine's lines stay in call order.
func TestMixedPathsKeepCallOrder(t *testing.T) {
	t.Run("steady", func(t *testing.T) { mixedPathsKeepCallOrder(t, false) })
	t.Run("switched", func(t *testing.T) { mixedPathsKeepCallOrder(t, true) })
}

func mixedPathsKeepCallOrder(t *testing.T, toggle bool) {
	l, _ := newDebugLogger(t, Config{QueueBytes: 8192, BlockWhenFull: true, MaxFileBytes: 64 << 10, DisableStress: true})
	requests := l.With("category", "requests")
	ctx := context.Background()
	const workers, n = 3, 6000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint(w)
			for i := range n {
				seq := fmt.Sprint(i)
				switch i % 3 {
				case 0:
					l.LogRequest(ctx, id, seq, time.Millisecond, 200, "fast")
				case 1:
					l.LogRequest(ctx, id, seq, time.Millisecond, 200, "fanout", slog.Int("x", 1))
				default:
					requests.Debug("request", "method", id, "path", seq)
				}
				if i%1000 == 500 && w == 0 {
					_ = l.Flush()
				}
				if i%2000 == 1000 && w == 1 && toggle {
					assert.NoError(t, l.SetDebug(false))
					assert.NoError(t, l.SetDebug(true))
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, l.Flush())
	last := map[string]int{}
	count := 0
	for _, m := range readCategoryAll(t, l, category.Requests) {
		id, _ := m["method"].(string)
		seq, err := strconv.Atoi(m["path"].(string))
		require.NoError(t, err)
		prev, seen := last[id]
		if seen {
			require.Greater(t, seq, prev, "worker %s: line %d after %d", id, seq, prev)
		}
		last[id] = seq
		count++
	}
	st := l.Stats().Categories[category.Requests]
	assert.Equal(t, st.Written, uint64(count))
	if !toggle { // records logged while debug mode is off are not the files'
		assert.Equal(t, uint64(workers*n), st.Written+st.Dropped+st.Failed)
	}
}

// TestFastPathDropsAreReported: records dropped from a burst of fast
// path records (a full queue) are counted and reported as records_dropped
// by the next helper record.
func TestFastPathDropsAreReported(t *testing.T) {
	l, _ := newDebugLogger(t, Config{QueueBytes: 4096, FlushInterval: time.Hour, StressCooldown: -1})
	ctx := context.Background()
	for i := range 20000 {
		l.LogRequest(ctx, "GET", "/p", time.Millisecond, 200, fmt.Sprint(i))
	}
	require.NoError(t, l.Flush())
	l.LogRequest(ctx, "GET", "/after", time.Millisecond, 200, "after")
	require.NoError(t, l.Flush())
	st := l.Stats().Categories[category.Requests]
	require.Positive(t, st.Dropped)
	assert.Equal(t, uint64(20001), st.Written+st.Dropped+st.Failed)
	assert.Equal(t, int(st.Written), len(readFile(t, l, category.Requests)))
	var reported uint64
	for _, m := range readFile(t, l, category.Stress) {
		if m["event_type"] == "records_dropped" {
			reported += uint64(m["count"].(float64))
		}
	}
	assert.Equal(t, st.Dropped, reported)
}

// panicContext is a context whose Value method panics.
type panicContext struct{ context.Context }

func (panicContext) Value(any) any { panic("context Value panicked") }

// TestFastPathPanickingContext: a context whose Value panics, handed
// to a helper on the fast path, does not take the program down, and the
// files see what the fan-out path lets them see.
func TestFastPathPanickingContext(t *testing.T) {
	fast, _ := newDebugLogger(t, Config{})
	slow, _ := newDebugLogger(t, Config{ConsoleCategories: true, ConsoleLevel: slog.LevelDebug})
	ctx := panicContext{context.Background()}
	for _, l := range []*Logger{fast, slow} {
		require.NotPanics(t, func() {
			l.LogRequest(ctx, "GET", "/p", time.Millisecond, 200, "a")
			l.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: "s"})
			l.LogProvisioning(ctx, "x", time.Millisecond, true, nil, 0)
		})
		require.NoError(t, l.Flush())
	}
	assert.Equal(t, slow.Stats().Written, fast.Stats().Written)
	assert.Equal(t, slow.Stats().Dropped, fast.Stats().Dropped)
	assert.Equal(t, slow.Stats().Panics, fast.Stats().Panics)
}

// TestFastPathCloseRace: goroutines log through both paths while
// the Logger flushes and closes; every record the files took is in them
// and in session_end's counts.
func TestFastPathCloseRace(t *testing.T) {
	l, _ := newDebugLogger(t, Config{QueueBytes: 16 << 10, DisableStress: true})
	requests := l.With("category", "requests")
	ctx := context.Background()
	var wg, logging sync.WaitGroup
	start := make(chan struct{})
	logging.Add(4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range 5000 {
				if i == 1 {
					logging.Done() // one record in: Close may go
				}
				switch (i + w) % 3 {
				case 0:
					l.LogRequest(ctx, "GET", "/p", time.Millisecond, 200, "fast")
				case 1:
					l.LogRequest(ctx, "GET", "/p", time.Millisecond, 200, "fanout", slog.Int("x", i))
				default:
					requests.Debug("plain", "i", i)
				}
			}
		}()
	}
	close(start)
	logging.Wait() // Flush and Close race with callers logging, not before them
	for range 20 {
		_ = l.Flush()
	}
	require.NoError(t, l.Close())
	wg.Wait()
	st := l.Stats().Categories[category.Requests]
	lines := readFile(t, l, category.Requests)
	assert.Equal(t, int(st.Written), len(lines))
	end := sessionEnd(t, l)
	cats := end["categories"].(map[string]any)
	if c, ok := cats["requests"].(map[string]any); ok {
		assert.Equal(t, float64(st.Written), c["written"])
	} else {
		assert.Zero(t, st.Written)
	}
}

// TestFastPathLeavesEveryRecordToRulesAndThresholds: a program's
// stress rule sees every helper record, and slow thresholds of the other
// fast-path categories fire for a derived Logger too.
func TestFastPathLeavesEveryRecordToRulesAndThresholds(t *testing.T) {
	var seen sync.Map
	rule := func(o *stress.Observation) (stress.Event, bool) {
		n, _ := seen.LoadOrStore(o.Category, new(int64))
		*(n.(*int64))++
		return stress.Event{}, false
	}
	l, _ := newDebugLogger(t, Config{StressRules: []stress.Rule{rule}})
	ctx := context.Background()
	for range 10 {
		l.LogRequest(ctx, "GET", "/p", time.Millisecond, 200, "a")
		l.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: "s", Duration: time.Millisecond})
		l.LogProvisioning(ctx, "x", time.Millisecond, true, nil, 0)
	}
	require.NoError(t, l.Flush())
	for _, cat := range []string{category.Requests, category.Streams, category.Provisioning} {
		n, ok := seen.Load(cat)
		require.True(t, ok, cat)
		assert.Equal(t, int64(10), *(n.(*int64)), cat)
	}

	m, _ := newDebugLogger(t, Config{SlowThresholds: map[string]time.Duration{category.Streams: time.Second, category.Disconnects: time.Second, category.Provisioning: time.Second}})
	for _, lg := range []*Logger{m, m.WithGroup("g"), m.With("k", "v")} {
		lg.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_ended", StreamID: "s", Duration: 2 * time.Second})
		lg.LogDisconnect(ctx, acestream.Disconnect{StreamID: "s", Reason: "done", Duration: 2 * time.Second})
		lg.LogProvisioning(ctx, "provision", 2*time.Second, true, nil, 0)
		lg.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_ended", StreamID: "s", Duration: time.Second})
	}
	require.NoError(t, m.Flush())
	types := map[any]int{}
	for _, e := range readFile(t, m, category.Stress) {
		types[e["event_type"]]++
	}
	assert.Equal(t, map[any]int{"slow_streams": 3, "slow_disconnects": 3, "slow_provisioning": 3}, types)
}

// TestDerivedFastPathFollowsTheSwitch: a derived Logger made before
// debug mode is switched off and on writes through the new files, with its
// attributes, and nothing after Close.
func TestDerivedFastPathFollowsTheSwitch(t *testing.T) {
	l, _ := newDebugLogger(t, Config{})
	d := l.With("k", "v").WithGroup("auth")
	ctx := context.Background()
	d.LogRequest(ctx, "GET", "/1", time.Millisecond, 200, "a")
	require.NotNil(t, d.fast(idxRequests))
	require.NoError(t, l.SetDebug(false))
	d.LogRequest(ctx, "GET", "/off", time.Millisecond, 200, "a")
	require.NoError(t, l.SetDebug(true))
	require.NotNil(t, d.fast(idxRequests))
	d.LogRequest(ctx, "GET", "/2", time.Millisecond, 200, "a")
	require.NoError(t, l.Flush())
	before := l.Stats()
	require.NoError(t, l.Close())
	assert.NotPanics(t, func() { d.LogRequest(ctx, "GET", "/closed", time.Millisecond, 200, "a") })
	lines := readFile(t, l, category.Requests)
	require.Len(t, lines, 2)
	for _, m := range lines {
		assert.Equal(t, "v", m["k"])
		assert.Equal(t, map[string]any{"method": "[REDACTED]", "path": "[REDACTED]", "duration": "[REDACTED]", "status_code": "[REDACTED]", "ace_id": "[REDACTED]"}, m["auth"])
	}
	assert.Equal(t, before.Categories[category.Requests].Written, l.Stats().Categories[category.Requests].Written)
}

func TestFastPathWithCategorySelectionMatchesFanOut(t *testing.T) {
	t.Parallel() // each waits on its writer, 1200 flushes
	compareFastAndFanOut(t, Config{Categories: []string{"requests", "streams", "other"}})
}

// TestDerivedCategoryFollowsTheSelection: a Logger derived with
// With("category", c) writes c's file from its typed helpers exactly when
// Config.Categories selects c, as its plain slog calls do. (It did not: the
// helpers checked the selection against their own category only, so
// DEBUG_CATEGORIES=-orchestrator_calls did not keep such a Logger's
// helpers out, and selecting only c lost them.)
func TestDerivedCategoryFollowsTheSelection(t *testing.T) {
	ctx := context.Background()
	t.Run("left out", func(t *testing.T) {
		l, _ := newDebugLogger(t, Config{Categories: []string{"-orchestrator_calls"}})
		calls := l.With("category", "orchestrator_calls")
		calls.Debug("plain")
		calls.LogRequest(ctx, "GET", "/api/v1/engines", time.Millisecond, 200, "")
		calls.LogRequest(ctx, "GET", "/api/v1/engines", time.Millisecond, 200, "", slog.Int("attempt", 1))
		require.NoError(t, l.Flush())
		assert.NoFileExists(t, l.Path("orchestrator_calls"), "a category left out is not written")
	})
	t.Run("selected", func(t *testing.T) {
		l, _ := newDebugLogger(t, Config{Categories: []string{"orchestrator_calls"}})
		calls := l.With("category", "orchestrator_calls")
		calls.Debug("plain")
		calls.LogRequest(ctx, "GET", "/api/v1/engines", time.Millisecond, 200, "")
		require.NoError(t, l.Flush())
		assert.Len(t, readFile(t, l, "orchestrator_calls"), 2, "the plain record and the helper's")
	})
}

// TestFastPathSync: with Sync, a fast-path record is in its file
// when the helper returns.
func TestFastPathSync(t *testing.T) {
	l, _ := newDebugLogger(t, Config{Sync: true})
	require.NotNil(t, l.fast(idxRequests))
	for i := range 3 {
		l.LogRequest(context.Background(), "GET", fmt.Sprint("/", i), time.Millisecond, 200, "a")
		assert.Len(t, readFile(t, l, category.Requests), i+1)
	}
}
