package integration_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/category"
	"github.com/proxydebug/debugmode/internal/demoproxy"
	"github.com/proxydebug/debugmode/slogdebug"
)

// A Client made without a logger or an HTTP client is shared by the health monitor
// and the request handlers: it must be safe for concurrent use (the race
// detector checks), and it logs to whatever slogdebug.Default is at the
// time of each call, not the one of its first call.
func TestClientDefaultsAreSafeAndFollowTheDefault(t *testing.T) {
	orchSrv := httptest.NewServer(demoproxy.NewOrchestrator("127.0.0.1", 1))
	t.Cleanup(func() {
		orchSrv.Close()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	})
	oldDefault := slog.Default()
	t.Cleanup(func() { slog.SetDefault(oldDefault) })

	client, err := integration.New(orchSrv.URL, nil, integration.Options{})
	require.NoError(t, err)
	ctx := context.Background()

	// Before Init: concurrent first calls (a health poll and a request).
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := client.Engines(ctx)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()

	// Then the program turns debug mode on: the next calls are in its files.
	logger, err := slogdebug.Init(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: t.TempDir(), Console: slog.NewTextHandler(discard{}, nil)})
	require.NoError(t, err)
	_, err = client.Engines(ctx)
	require.NoError(t, err)
	path := logger.Path(category.OrchestratorCalls)
	require.NoError(t, logger.Close())

	f, err := os.Open(path)
	require.NoError(t, err, "the call made after Init is logged in the new default's files")
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		assert.Equal(t, "orchestrator_call", m["msg"])
		assert.Equal(t, orchSrv.URL+"/engines", m["url"])
		n++
	}
	assert.Equal(t, 1, n)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
