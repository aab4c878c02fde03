package integration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/slogdebug"
)

// fakeEngines is an orchestrator that answers GET /engines with a fixed
// list (as the orchestrator writes it) and POST /provision/acestream with a
// new engine, counting the calls.
type fakeEngines struct {
	list       string
	engines    atomic.Int32
	streams    atomic.Int32
	provisions atomic.Int32
	release    chan struct{} // when not nil, /engines waits for it
}

func (f *fakeEngines) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/engines":
		f.engines.Add(1)
		if f.release != nil {
			<-f.release
		}
		_, _ = w.Write([]byte(f.list))
	case "/streams":
		f.streams.Add(1)
		_, _ = w.Write([]byte(`[{"id":"k|s1","container_id":"c1","key_type":"content_id","key":"k","status":"started"}]`))
	case "/events/stream_ended":
		_, _ = w.Write([]byte(`{}`))
	case "/provision/acestream":
		f.provisions.Add(1)
		_, _ = w.Write([]byte(`{"container_id":"new","container_name":"acestream-9","host_http_port":40009}`))
	default:
		http.NotFound(w, r)
	}
}

// newSelector returns a Client of f logging into a fresh debug session.
func newSelector(t *testing.T, f *fakeEngines, opts integration.Options) (*integration.Client, *slogdebug.Logger) {
	t.Helper()
	srv := httptest.NewServer(f)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: t.TempDir()}, &syncBuffer{})
	require.NoError(t, err)
	t.Cleanup(func() { log.Close() })
	opts.HTTPClient = &http.Client{Transport: tr}
	c, err := integration.New(srv.URL, log, opts)
	require.NoError(t, err)
	return c, log
}

// engineJSON is one engine as the orchestrator lists it.
func engineJSON(id, health string, streams []string, forwarded bool, lastUsed string) map[string]any {
	var used any
	if lastUsed != "" {
		used = lastUsed
	}
	return map[string]any{"container_id": id, "container_name": "acestream-" + id, "host": "10.0.0.1", "port": 6878,
		"labels": map[string]string{}, "forwarded": forwarded, "first_seen": "2026-11-26T10:00:00.000000+00:00",
		"last_seen": "2026-11-26T10:17:00.000000+00:00", "streams": streams, "health_status": health,
		"last_health_check": "2026-11-26T10:16:58.000000+00:00", "last_stream_usage": used}
}

func listJSON(t *testing.T, engines ...map[string]any) string {
	b, err := json.Marshal(engines)
	require.NoError(t, err)
	return string(b)
}

func TestSelectBestEngineOrder(t *testing.T) {
	one := []string{"k|s1"}
	cases := []struct {
		name       string
		engines    []map[string]any
		maxStreams int
		want       string
	}{
		{"healthy before unknown before unhealthy, whatever the load", []map[string]any{
			engineJSON("sick", "unhealthy", nil, true, ""),
			engineJSON("unknown", "unknown", nil, true, ""),
			engineJSON("busy", "healthy", []string{"a", "b", "c"}, false, ""),
		}, 0, "busy"},
		{"fewer streams first", []map[string]any{
			engineJSON("two", "healthy", []string{"a", "b"}, true, ""),
			engineJSON("one", "healthy", one, false, ""),
		}, 0, "one"},
		{"forwarded breaks a tie of load", []map[string]any{
			engineJSON("plain", "healthy", nil, false, ""),
			engineJSON("fwd", "healthy", nil, true, ""),
		}, 0, "fwd"},
		{"then the one unused the longest (never used first)", []map[string]any{
			engineJSON("recent", "healthy", nil, false, "2026-11-26T10:16:00.000000+00:00"),
			engineJSON("older", "healthy", nil, false, "2026-11-26T10:01:00.000000+00:00"),
			engineJSON("never", "healthy", nil, false, ""),
		}, 0, "never"},
		{"full engines are passed over", []map[string]any{
			engineJSON("full", "healthy", one, true, ""),
			engineJSON("room", "unhealthy", nil, false, ""),
		}, 1, "room"},
		{"an older orchestrator without health or times", []map[string]any{
			{"container_id": "old1", "host": "h", "port": 1, "streams": []string{"x"}},
			{"container_id": "old2", "host": "h", "port": 2},
		}, 0, "old2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeEngines{list: listJSON(t, c.engines...)}
			client, _ := newSelector(t, f, integration.Options{MaxStreamsPerEngine: c.maxStreams})
			choice, err := client.SelectBestEngine(context.Background())
			require.NoError(t, err)
			assert.Equal(t, c.want, choice.ContainerID)
			assert.EqualValues(t, 1, f.engines.Load(), "one engine list per selection")
			assert.Zero(t, f.streams.Load(), "no call per engine: /engines carries their streams")
			assert.Zero(t, f.provisions.Load())
		})
	}
}

func TestSelectBestEngineProvisionsWhenEveryEngineIsFull(t *testing.T) {
	f := &fakeEngines{list: listJSON(t, engineJSON("full", "healthy", []string{"a"}, true, ""))}
	client, log := newSelector(t, f, integration.Options{MaxStreamsPerEngine: 1})
	choice, err := client.SelectBestEngine(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "new", choice.ContainerID)
	assert.Equal(t, 40009, choice.Port)
	assert.EqualValues(t, 1, f.provisions.Load())

	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path(category.EngineSelection))
	require.Len(t, lines, 1)
	assert.Equal(t, "new", lines[0]["container_id"])
	assert.Equal(t, 1.0, lines[0]["engine_count"])
	assert.Equal(t, 1.0, lines[0]["max_streams"])
	assert.Equal(t, true, lines[0]["provisioned"])
	assert.NotContains(t, lines[0], "active_streams", "a new engine has no load to report")
}

func TestSelectionLineSaysWhatTheChoiceWasMadeFrom(t *testing.T) {
	f := &fakeEngines{list: listJSON(t, engineJSON("c1", "healthy", []string{"a"}, true, ""), engineJSON("c2", "healthy", []string{"a", "b"}, false, ""))}
	client, log := newSelector(t, f, integration.Options{MaxStreamsPerEngine: 3})
	_, err := client.SelectBestEngine(context.Background())
	require.NoError(t, err)
	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path(category.EngineSelection))
	require.Len(t, lines, 1)
	m := lines[0]
	assert.Equal(t, "select_best_engine", m["operation"])
	assert.Equal(t, "c1", m["container_id"])
	assert.Equal(t, "10.0.0.1", m["selected_host"])
	assert.Equal(t, 6878.0, m["selected_port"])
	assert.Equal(t, 2.0, m["engine_count"])
	assert.Equal(t, 1.0, m["active_streams"])
	assert.Equal(t, 3.0, m["max_streams"])
	assert.Equal(t, "healthy", m["health_status"])
	assert.Equal(t, true, m["forwarded"])
	assert.Nil(t, m["error"])
	assert.NotContains(t, m, "engines_cached", "the list was fetched for this selection")
}

func TestEngineCacheSharesOneListAmongSelections(t *testing.T) {
	f := &fakeEngines{list: listJSON(t, engineJSON("c1", "healthy", nil, false, "")), release: make(chan struct{})}
	client, log := newSelector(t, f, integration.Options{EngineCache: 1 << 62})

	// Eight selections at once: one call, the others wait for it.
	var wg sync.WaitGroup
	started := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-started
			choice, err := client.SelectBestEngine(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, "c1", choice.ContainerID)
		}()
	}
	close(started)
	close(f.release)
	wg.Wait()
	// And later ones are served from the cache.
	for i := 0; i < 3; i++ {
		_, err := client.SelectBestEngine(context.Background())
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, f.engines.Load())

	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path(category.EngineSelection))
	require.Len(t, lines, 11)
	fetched := 0
	for _, m := range lines {
		if m["engines_cached"] == nil {
			fetched++
		} else {
			assert.Equal(t, true, m["engines_cached"])
		}
	}
	assert.Equal(t, 1, fetched, "exactly one selection made the call")
	calls := readLines(t, log.Path(category.OrchestratorCalls))
	assert.Len(t, calls, 1)
}

func TestEngineCacheCopiesAreTheCallersOwn(t *testing.T) {
	f := &fakeEngines{list: listJSON(t, engineJSON("c1", "healthy", []string{"a"}, false, ""))}
	client, _ := newSelector(t, f, integration.Options{EngineCache: 1 << 62})
	first, err := client.Engines(context.Background())
	require.NoError(t, err)
	first[0].Streams[0] = "changed"
	first[0].Labels["x"] = "y"
	first[0].Host = "elsewhere"
	second, err := client.Engines(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, second[0].Streams)
	assert.Empty(t, second[0].Labels)
	assert.Equal(t, "10.0.0.1", second[0].Host)
	assert.EqualValues(t, 1, f.engines.Load())
}

func TestEngineOptionsRefuseNegativeValues(t *testing.T) {
	_, err := integration.New("http://orchestrator:8000", nil, integration.Options{EngineCache: -1})
	require.ErrorContains(t, err, "Options.EngineCache -1ns, MaxStreamsPerEngine 0: want 0 (none) or more")
	_, err = integration.New("http://orchestrator:8000", nil, integration.Options{MaxStreamsPerEngine: -2})
	require.ErrorContains(t, err, "Options.EngineCache 0s, MaxStreamsPerEngine -2: want 0 (none) or more")
}

// TestEngineCacheKeepsTheStreamLimit: selections served by one cached list
// see each other's choices, so a limit of one stream per engine holds
// between fetches, concurrent selections included; a stream reported
// ended frees its engine at once.
func TestEngineCacheKeepsTheStreamLimit(t *testing.T) {
	list := listJSON(t, engineJSON("c1", "healthy", nil, false, ""), engineJSON("c2", "healthy", nil, false, ""),
		engineJSON("c3", "healthy", nil, false, ""))
	f := &fakeEngines{list: list}
	client, _ := newSelector(t, f, integration.Options{EngineCache: 1 << 62, MaxStreamsPerEngine: 1})
	ctx := context.Background()

	chosen := make(chan string, 3)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			choice, err := client.SelectBestEngine(ctx)
			assert.NoError(t, err)
			chosen <- choice.ContainerID
		}()
	}
	wg.Wait()
	close(chosen)
	var got []string
	for id := range chosen {
		got = append(got, id)
	}
	assert.ElementsMatch(t, []string{"c1", "c2", "c3"}, got, "one stream per engine, though all three saw one list")
	assert.Zero(t, f.provisions.Load())

	require.NoError(t, client.ReportStreamEnded(ctx, integration.StreamEnded{ContainerID: "c2", StreamID: "k|s"}, time.Second))
	choice, err := client.SelectBestEngine(ctx)
	require.NoError(t, err)
	assert.Equal(t, "c2", choice.ContainerID, "the engine whose stream ended has room again")
	assert.Zero(t, f.provisions.Load())

	choice, err = client.SelectBestEngine(ctx)
	require.NoError(t, err)
	assert.Equal(t, "new", choice.ContainerID, "every engine full: a new one is provisioned")
	assert.EqualValues(t, 1, f.engines.Load(), "all from one engine list")
}

// TestSelectionLineSaysTheLoadBeforeTheChoice: with a cache, the chosen
// engine's active_streams is its load when chosen, not counting the stream
// it was chosen for.
func TestSelectionLineSaysTheLoadBeforeTheChoice(t *testing.T) {
	f := &fakeEngines{list: listJSON(t, engineJSON("c1", "healthy", nil, false, ""))}
	client, log := newSelector(t, f, integration.Options{EngineCache: 1 << 62, MaxStreamsPerEngine: 2})
	for i := 0; i < 2; i++ {
		_, err := client.SelectBestEngine(context.Background())
		require.NoError(t, err)
	}
	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path(category.EngineSelection))
	require.Len(t, lines, 2)
	assert.Equal(t, 0.0, lines[0]["active_streams"])
	assert.Equal(t, 1.0, lines[1]["active_streams"], "the first selection's stream")
}
