package integration_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/redact"
	"github.com/proxydebug/debugmode/slogdebug"
)

// orchestratorCallURL calls a server at rawURL's path and query, with
// rawURL's user info, through Transport, and returns the url of its
// orchestrator_calls line with the server's address put back as "orch:8000".
func orchestratorCallURL(t *testing.T, rawURL string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	log, err := slogdebug.New(slogdebug.Config{Enabled: true, OrchestratorCalls: true, Dir: t.TempDir()}, io.Discard)
	require.NoError(t, err)
	defer log.Close()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, strings.Replace(rawURL, "orch:8000", srv.Listener.Addr().String(), 1), nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: integration.Transport(srv.Client().Transport, log)}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, log.Flush())
	lines := readLines(t, log.Path("orchestrator_calls"))
	require.Len(t, lines, 1)
	return strings.Replace(lines[0]["url"].(string), srv.Listener.Addr().String(), "orch:8000", 1)
}

// TestCallURLIsRedactedAsTheFilesRedact: the url of an orchestrator_calls
// line is redacted as the files redact text, the same way, including
// queries url.ParseQuery rejects.
func TestCallURLIsRedactedAsTheFilesRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"http://user:pass@orch:8000/provision?api_key=abc&x=1": "http://REDACTED@orch:8000/provision?api_key=REDACTED&x=1",
		"http://orch:8000/x?token=S;x=1":                       "http://orch:8000/x?token=REDACTED;x=1",
		"http://orch:8000/x?accessToken=S&keyword=go&signal=1": "http://orch:8000/x?accessToken=REDACTED&keyword=go&signal=1",
		"http://orch:8000/o?X-Amz-Date=1&X-Amz-Signature=S":    "http://orch:8000/o?X-Amz-Date=1&X-Amz-Signature=REDACTED",
		"http://orch:8000/cb#access_token=S&token_type=bearer": "http://orch:8000/cb#access_token=REDACTED&token_type=bearer",
		"http://orch:8000/status":                              "http://orch:8000/status",
	} {
		got := orchestratorCallURL(t, raw)
		assert.Equal(t, want, got, raw)
		assert.Equal(t, redact.Default().RedactText(raw), got, raw)
	}
}
