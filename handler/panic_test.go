package handler

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicOn returns hooks that panic when a record with the message msg is
// encoded.
func panicOn(msg string) *testHooks {
	return &testHooks{beforeEncode: func(r *slog.Record) {
		if r.Message == msg {
			panic("injected: " + msg)
		}
	}}
}

// reportsTo returns an OnError that sends each report's error to ch.
func reportsTo(ch chan error) func(error, uint64, uint64) {
	return func(err error, _, _ uint64) { ch <- err }
}

// sessionEnd returns the last line of the session file.
func sessionEnd(t *testing.T, h *Handler) map[string]any {
	t.Helper()
	lines := readLines(t, h.Path("session"))
	end := lines[len(lines)-1]
	require.Equal(t, "session_end", end["event"])
	return end
}

// TestPanicWhileEncodingIsReported: a record whose encoding panics is
// counted as failed and reported once; the process goes on, the other
// records are written, and Close works.
func TestPanicWhileEncodingIsReported(t *testing.T) {
	reports := make(chan error, 10)
	h := newTestHandler(t, Options{FlushInterval: time.Hour, DefaultCategory: "c", ErrorInterval: time.Hour,
		OnError: reportsTo(reports), hooks: panicOn("boom")})
	l := slog.New(h)
	l.Info("before", "i", 1)
	l.Info("boom", "i", 2)
	l.Info("after", "i", 3)
	require.NoError(t, h.Flush())

	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 2)
	assert.Equal(t, "before", lines[0]["msg"])
	assert.Equal(t, "after", lines[1]["msg"])
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Panics)
	assert.Equal(t, Stats{Written: 2, Failed: 1, Bytes: st.Categories["c"].Bytes}, st.Categories["c"])
	assert.ErrorContains(t, st.LastError, "injected: boom")

	report := <-reports // the first panic is reported at once
	assert.ErrorContains(t, report, "encoding a record of category c")
	assert.ErrorContains(t, report, "injected: boom")
	assert.ErrorContains(t, report, "please report it")

	// Another one is counted, and merged into the next report.
	l.Info("boom")
	require.NoError(t, h.Flush())
	assert.Equal(t, uint64(2), h.Stats().Panics)
	assert.Equal(t, uint64(1), h.s.rep.reportsHanded(), "reported once per interval")

	require.NoError(t, h.Close())
	end := sessionEnd(t, h)
	assert.Equal(t, 2.0, num(t, end["records_failed"]))
	assert.Equal(t, 3.0, num(t, end["records_written"]), "session_start and two records")
	assert.ErrorContains(t, <-reports, "injected: boom", "Close reports what was not reported yet")
}

// TestPanicInTheCallerIsRecovered: a record that panics while it is
// encoded makes Handle return an error, never panic, and is counted as
// failed.
func TestPanicInTheCallerIsRecovered(t *testing.T) {
	hooks := panicOn("boom")
	h := newTestHandler(t, Options{DefaultCategory: "c", hooks: hooks})
	ctx := context.Background()
	require.NoError(t, h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "before", 0)))
	err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "boom", 0))
	require.ErrorContains(t, err, "injected: boom")
	require.NoError(t, h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelInfo, "after", 0)))
	require.NoError(t, h.Flush())
	assert.Len(t, readLines(t, h.Path("c")), 2)
	st := h.Stats()
	assert.Equal(t, uint64(1), st.Categories["c"].Failed)
	assert.Equal(t, uint64(1), st.Panics)
	require.NoError(t, h.Close())
}

// TestPanicWritingAFileIsRecovered: a panic in the file write (a bug in
// rotation, say) loses that batch, counted as failed; other categories and
// later writes go on, and Close writes session_end.
func TestPanicWritingAFileIsRecovered(t *testing.T) {
	var armed atomic.Bool
	armed.Store(true)
	hooks := &testHooks{writeFile: func(path string, f *os.File, p []byte) (int, error) {
		if armed.Load() && strings.HasSuffix(path, "_bad.jsonl") {
			panic("injected write panic")
		}
		return f.Write(p)
	}}
	h := newTestHandler(t, Options{FlushInterval: time.Hour, hooks: hooks})
	pauseWriter(h)
	l := slog.New(h)
	l.Info("m", "category", "good", "i", 1)
	l.Info("m", "category", "bad", "i", 2)
	l.Info("m", "category", "bad", "i", 3)
	l.Info("m", "category", "good", "i", 4)
	require.ErrorContains(t, h.Flush(), "injected write panic")
	assert.Len(t, readLines(t, h.Path("good")), 2)
	st := h.Stats()
	assert.Equal(t, uint64(2), st.Categories["bad"].Failed)
	assert.Equal(t, uint64(1), st.Panics)
	assert.Zero(t, st.WriteErrors, "a panic is not a write error")

	armed.Store(false)
	l.Info("m", "category", "bad", "i", 5)
	require.NoError(t, h.Flush())
	assert.Len(t, readLines(t, h.Path("bad")), 1)
	require.NoError(t, h.Close())
	assert.Equal(t, 2.0, num(t, sessionEnd(t, h)["records_failed"]))
}

// TestPanickingCallbacksAreRecovered: Options.OnDrop runs on the writer and
// Options.OnError on the reporter; a panic in either is recovered and
// counted.
func TestPanickingCallbacksAreRecovered(t *testing.T) {
	fail := errors.New("injected write error")
	hooks := &testHooks{writeFile: func(path string, f *os.File, p []byte) (int, error) {
		if strings.HasSuffix(path, "_c.jsonl") {
			return 0, fail
		}
		return f.Write(p)
	}}
	hooks.reportGrace = time.Hour // Close waits for the reporter: the console is not stuck
	var onErrorCalls atomic.Uint64
	h := newTestHandler(t, Options{QueueBytes: 4096, FlushInterval: time.Hour, DefaultCategory: "c", hooks: hooks,
		OnDrop: func() { panic("OnDrop panics") },
		OnError: func(error, uint64, uint64) {
			onErrorCalls.Add(1)
			panic("OnError panics")
		}})
	pauseWriter(h)
	l := slog.New(h)
	for i := range 500 {
		l.Info("m", "i", i)
	}
	require.Positive(t, h.Stats().Dropped)
	err := h.Flush()
	require.ErrorIs(t, err, fail)
	require.ErrorContains(t, err, "OnDrop panics")
	require.NoError(t, h.Close()) // waits for the reporter, whose OnError panicked
	st := h.Stats()
	require.Positive(t, onErrorCalls.Load())
	assert.Equal(t, 1+onErrorCalls.Load(), st.Panics, "OnDrop's and each of OnError's")
	assert.Equal(t, uint64(500), st.Failed+st.Dropped)
}

// TestPanicInWithAttrsIsRecovered: a With call whose attributes panic
// while they are encoded does not take the caller down: they are left out,
// the panic is counted and reported, and the logger goes on working.
func TestPanicInWithAttrsIsRecovered(t *testing.T) {
	reports := make(chan error, 10)
	hooks := &testHooks{beforeWithAttrs: func(attrs []slog.Attr) {
		if attrs[0].Key == "boom" {
			panic("injected: WithAttrs")
		}
	}}
	h := newTestHandler(t, Options{DefaultCategory: "c", OnError: reportsTo(reports), hooks: hooks})
	l := slog.New(h).With("kept", 1).With("boom", 2)
	l.Info("m", "own", 3)
	require.NoError(t, h.Flush())
	line := only(t, h, "c")
	assert.Equal(t, json.Number("1"), line["kept"])
	assert.Equal(t, json.Number("3"), line["own"])
	assert.NotContains(t, line, "boom")
	assert.Equal(t, uint64(1), h.Stats().Panics)
	assert.ErrorContains(t, <-reports, "injected: WithAttrs")
}
