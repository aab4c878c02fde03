package integration_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/internal/redact"
)

// TestRedactURLIsTheFilesRedaction: RedactURL redacts what the files
// redact, the same way, including queries url.ParseQuery rejects.
func TestRedactURLIsTheFilesRedaction(t *testing.T) {
	for raw, want := range map[string]string{
		"http://user:pass@orch:8000/provision?api_key=abc&x=1": "http://REDACTED@orch:8000/provision?api_key=REDACTED&x=1",
		"http://orch/x?token=S;x=1":                            "http://orch/x?token=REDACTED;x=1",
		"http://orch/x?accessToken=S&keyword=go&signal=1":      "http://orch/x?accessToken=REDACTED&keyword=go&signal=1",
		"https://b.s3/o?X-Amz-Date=1&X-Amz-Signature=S":        "https://b.s3/o?X-Amz-Date=1&X-Amz-Signature=REDACTED",
		"https://app/cb#access_token=S&token_type=bearer":      "https://app/cb#access_token=REDACTED&token_type=bearer",
		"http://orch:8000/status":                              "http://orch:8000/status",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err, raw)
		got := integration.RedactURL(u)
		assert.Equal(t, want, got, raw)
		assert.Equal(t, redact.Default().RedactText(u.String()), got, raw)
	}
	assert.Equal(t, "", integration.RedactURL(nil))
}
