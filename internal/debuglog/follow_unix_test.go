//go:build unix

package debuglog

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// followRun is follow running in a goroutine, its polls driven by the
// test: settle takes two ticks (the second is taken only once the first
// poll has delivered everything) and returns what was delivered.
type followRun struct {
	tick     chan time.Time
	events   chan *Event
	warnings bytes.Buffer // written by the follower, read once it has returned
	cancel   context.CancelFunc
	done     chan struct{}
}

func startFollow(t *testing.T, dirs ...string) *followRun {
	t.Helper()
	f := &followRun{tick: make(chan time.Time), events: make(chan *Event, 100000), done: make(chan struct{})}
	var fds []followDir
	for _, d := range dirs {
		fds = append(fds, followDir{d, systemOrch})
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() {
		defer close(f.done)
		follow(ctx, fds, newWarner(&f.warnings), time.Hour, f.tick, func(ev *Event) { f.events <- ev })
	}()
	t.Cleanup(func() { f.stop() })
	return f
}

func (f *followRun) poll() {
	f.tick <- time.Time{}
	f.tick <- time.Time{}
}

func (f *followRun) settle() []*Event {
	f.poll()
	var got []*Event
	for {
		select {
		case ev := <-f.events:
			got = append(got, ev)
		default:
			return got
		}
	}
}

// stop ends following and returns the warnings.
func (f *followRun) stop() string {
	f.cancel()
	<-f.done
	return f.warnings.String()
}

// opsOf counts the events per operation (each line's own ID).
func opsOf(events []*Event) map[string]int {
	m := map[string]int{}
	for _, ev := range events {
		m[ev.str("operation")]++
	}
	return m
}

// orchLines returns n orchestrator lines whose operations are prefix0..
func orchLines(prefix string, n int) string {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"session_id": "20261126_101715", "timestamp": "2026-11-26T10:17:%02d.%06d+00:00", "operation": "%s%d", "status": "healthy", "duration_ms": 10.0}`+"\n", i%60, i, prefix, i)
	}
	return b.String()
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// wantOnce checks that events are exactly prefix0..prefix(n-1), once each.
func wantOnce(t *testing.T, events []*Event, prefix string, n int) {
	t.Helper()
	ops := opsOf(events)
	assert.Len(t, ops, n, "%s: %v", prefix, ops)
	for i := range n {
		assert.Equal(t, 1, ops[fmt.Sprintf("%s%d", prefix, i)], "%s%d read once", prefix, i)
	}
}

// TestFollowLosesNoLineToCopytruncateOrRotation: a file copied and
// truncated (logrotate's copytruncate) that regrows past the offset read
// before within one poll is read again from its start; a file moved away
// and created anew (logrotate's create) whose writer goes on writing to
// the old one for a while loses none of those lines either.
func TestFollowLosesNoLineToCopytruncateOrRotation(t *testing.T) {
	dir := t.TempDir()
	vpn := filepath.Join(dir, "20261126_101715_vpn.jsonl")
	health := filepath.Join(dir, "20261126_101715_health.jsonl")
	appendTo(t, vpn, orchLines("before", 10))
	writer, err := os.OpenFile(health, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644) // a writer that holds its file
	require.NoError(t, err)
	defer func() { writer.Close() }()
	write := func(text string) {
		_, err := writer.WriteString(text)
		require.NoError(t, err)
	}
	write(orchLines("before", 5))

	f := startFollow(t, dir)
	require.Empty(t, f.settle(), "what was there before is not shown")

	// copytruncate, regrown past the old offset within one poll.
	appendTo(t, vpn, orchLines("a", 100))
	wantOnce(t, f.settle(), "a", 100)
	old, err := os.ReadFile(vpn)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(vpn+".1", old, 0o644))
	require.NoError(t, os.Truncate(vpn, 0))
	appendTo(t, vpn, orchLines("b", 150))
	wantOnce(t, f.settle(), "b", 150)

	// Move and create: the writer goes on with the old file for two polls,
	// then reopens.
	write(orchLines("c", 100))
	wantOnce(t, f.settle(), "c", 100)
	require.NoError(t, os.Rename(health, health+".1"))
	require.NoError(t, os.WriteFile(health, nil, 0o644))
	write(orchLines("d", 50))
	wantOnce(t, f.settle(), "d", 50)
	write(orchLines("e", 50))
	wantOnce(t, f.settle(), "e", 50)
	require.NoError(t, writer.Close())
	writer, err = os.OpenFile(health, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	write(orchLines("f", 100))
	wantOnce(t, f.settle(), "f", 100)
	assert.Contains(t, f.stop(), "truncated")
}

// TestFollowTellsCannotOpenNowFromGone: while the process is out of
// descriptors (EMFILE) a directory cannot be listed nor a file opened; its
// files are not taken for gone, so once descriptors are back only what was
// written since is shown, never the old lines again as new; a file created
// meanwhile is read from its start.
func TestFollowTellsCannotOpenNowFromGone(t *testing.T) {
	dir := t.TempDir()
	vpn := filepath.Join(dir, "20261126_101715_vpn.jsonl")
	appendTo(t, vpn, orchLines("old", 20))
	f := startFollow(t, dir)
	require.Empty(t, f.settle())

	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	low := lim
	low.Cur = 3 // stdin, stdout, stderr: every new descriptor fails with EMFILE
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	_, openErr := os.Open(vpn)
	f.poll()
	f.poll()
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	require.ErrorIs(t, openErr, syscall.EMFILE, "out of descriptors while polled")

	appendTo(t, vpn, orchLines("new", 1))
	appendTo(t, filepath.Join(dir, "20261126_101715_health.jsonl"), orchLines("other", 3))
	got := f.settle()
	ops := opsOf(got)
	assert.Equal(t, map[string]int{"new0": 1, "other0": 1, "other1": 1, "other2": 1}, ops, "only what was written since")
	assert.Contains(t, f.stop(), "too many open files")
}
