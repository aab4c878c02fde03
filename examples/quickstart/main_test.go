package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readmeMarker precedes, in the README, the block that shows this file.
const readmeMarker = "<!-- examples/quickstart/main.go, verbatim: a test checks it -->\n```go\n"

// TestReadmeShowsThisFile: the README's program is this file, byte for
// byte, so it compiles as written and cannot go stale.
func TestReadmeShowsThisFile(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, block, found := strings.Cut(string(readme), readmeMarker)
	require.True(t, found, "the README has the marker %q", readmeMarker)
	block, _, found = strings.Cut(block, "```\n")
	require.True(t, found, "the block ends")
	file, err := os.ReadFile("main.go")
	require.NoError(t, err)
	assert.Equal(t, string(file), block, "the README's block and examples/quickstart/main.go differ: copy the file into the README")
}

// TestProxiesAStream runs the README's proxy against the demo's fake
// orchestrator and engine: one stream, and the lines it leaves.
func TestProxiesAStream(t *testing.T) {
	engine := httptest.NewServer(demoproxy.Engine{})
	defer engine.Close()
	host, port, err := net.SplitHostPort(engine.Listener.Addr().String())
	require.NoError(t, err)
	n, _ := strconv.Atoi(port)
	orch := httptest.NewServer(demoproxy.NewOrchestrator(host, n))
	defer orch.Close()

	logger, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	client, err := integration.New(orch.URL, logger, integration.Options{APIKey: "k", HTTPClient: orch.Client()})
	require.NoError(t, err)
	srv := httptest.NewServer(integration.Middleware(logger)(&proxy{orch: client, logger: logger}))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/ace/getstream?id=abc&size=5000")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, body, 5000)
	srv.Client().CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	require.NoError(t, logger.Close())

	for cat, want := range map[string]int{"requests": 1, "engine_selection": 1, "streams": 1} {
		assert.Len(t, lines(t, logger.Path(cat)), want, cat)
	}
	assert.NoFileExists(t, logger.Path("disconnects"), "the request's line says how its stream ended")
	req := lines(t, logger.Path("requests"))[0]
	assert.Equal(t, "completed", req["reason"])
	assert.Equal(t, "abc", req["ace_id"])
	assert.Equal(t, 5000.0, req["bytes"])
	assert.Equal(t, true, req["reported"], "the end reported to the orchestrator, after the copy, within the request")
	started := lines(t, logger.Path("streams"))[0]
	assert.Equal(t, "stream_started", started["event_type"])
	assert.Equal(t, req["request_id"], started["request_id"])
	assert.Equal(t, req["stream_id"], started["stream_id"])
}

func lines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}
