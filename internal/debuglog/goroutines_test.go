package debuglog

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A snapshot as slogdebug writes it: pprof's debug=1 text, every frame.
const snapshotText = `goroutine profile: total 4
2 @ 0x43e1d6 0x4085fd 0x6ba8e5 0x471201
# labels: {"request_id":"req-1", "route":"/ace/getstream"}
#	0x43e1d5	runtime.gopark+0xf5	/go/src/runtime/proc.go:435
#	0x4085fc	runtime.chanrecv1+0x1c	/go/src/runtime/chan.go:489
#	0x6ba8e4	example.com/proxy.(*Proxy).wait+0x44	/src/proxy/wait.go:42
#	0x6ba8e5	example.com/proxy.(*Proxy).ServeHTTP+0x10	/src/proxy/proxy.go:88

1 @ 0x43e1d6 0x44f1aa 0x6ba8e5
# labels: {"request_id":"req-2", "route":"/ace/getstream"}
#	0x43e1d5	runtime.gopark+0xf5	/go/src/runtime/proc.go:435
#	0x44f1a9	sync.runtime_SemacquireMutex+0x25	/go/src/runtime/sema.go:95
#	0x44f1aa	sync.(*Mutex).lockSlow+0x15	/go/src/sync/mutex.go:173
#	0x6ba8e5	main.handler+0x10	/src/main.go:12

1 @ 0x43e1d6
#	0x43e1d5	net/http.(*persistConn).roundTrip+0xf5	/go/src/net/http/transport.go:2700
#	0x6ba8e5	github.com/x/y.Call+0x10	/src/y.go:3
`

func TestSnapshotsAreReadWithTheirLabelsAndWaits(t *testing.T) {
	stacks, err := parseStacks(strings.NewReader(snapshotText))
	require.NoError(t, err)
	require.Len(t, stacks, 3)
	assert.Equal(t, 2, stacks[0].Count)
	assert.Equal(t, map[string]string{"request_id": "req-1", "route": "/ace/getstream"}, stacks[0].Labels)
	assert.Len(t, requestStacks(stacks, "req-1"), 1)
	assert.Empty(t, requestStacks(stacks, "req-3"))
	for _, tc := range []struct {
		stack      int
		what, call string
	}{
		{0, "a channel receive", "example.com/proxy.(*Proxy).wait"},
		{1, "a lock (sync.Mutex)", "main.handler"},
		{2, "an HTTP call's answer (net/http)", "github.com/x/y.Call"},
	} {
		what, call := stacks[tc.stack].blockedOn()
		assert.Equal(t, tc.what, what, tc.stack)
		require.NotNil(t, call, tc.stack)
		assert.Equal(t, tc.call, call.Func, tc.stack)
	}
	assert.Equal(t, "/src/proxy/wait.go:42", stacks[0].Frames[2].File)
}

func TestWaitsAreNamedByTheirFrames(t *testing.T) {
	for _, tc := range []struct {
		frames []string
		want   string
	}{
		{[]string{"runtime.gopark", "runtime.selectgo", "net/http.(*persistConn).roundTrip"}, "an HTTP call's answer (net/http)"},
		{[]string{"internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait", "internal/poll.(*FD).Read"}, "a network read"},
		{[]string{"internal/poll.runtime_pollWait", "internal/poll.(*FD).Write"}, "a network write"},
		{[]string{"runtime.gopark", "runtime.chansend1"}, "a channel send"},
		{[]string{"runtime.gopark", "sync.runtime_Semacquire", "sync.(*WaitGroup).Wait"}, "a sync.WaitGroup"},
		{[]string{"time.Sleep"}, "a sleep"},
		{[]string{"example.com/busy.loop"}, "running (or runnable)"},
	} {
		var s stack
		for _, f := range tc.frames {
			s.Frames = append(s.Frames, frame{Func: f})
		}
		what, _ := s.blockedOn()
		assert.Equal(t, tc.want, what, tc.frames)
	}
	for fn, std := range map[string]bool{"runtime.gopark": true, "net/http.(*conn).serve": true, "internal/poll.(*FD).Read": true,
		"main.main": false, "github.com/a/b.(*T).M": false, "example.com/x.F.func1": false, "gopkg.in/yaml.v3.Unmarshal": false} {
		assert.Equal(t, std, standard(fn), fn)
	}
}

// FuzzParseStacks: any text is read without a panic, each stack's frames
// named, and what it waits on said.
func FuzzParseStacks(f *testing.F) {
	f.Add(snapshotText)
	f.Add("1 @ 0x1\n# labels: {\"a\\\"b\":\"c\"}\n#\t0x1\tf+0x1\tx.go:1\n")
	f.Fuzz(func(t *testing.T, text string) {
		stacks, err := parseStacks(strings.NewReader(text))
		if err != nil {
			return
		}
		for _, s := range stacks {
			what, call := s.blockedOn()
			if what == "" {
				t.Fatalf("no wait named for %+v", s)
			}
			if call != nil && standard(call.Func) {
				t.Fatalf("a call of the Go distribution named as the program's: %q", call.Func)
			}
		}
	})
}
