package handler

import (
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretKeys(t *testing.T) {
	r := newRedactor([]string{"X-Session"}, false)
	for key, want := range map[string]bool{
		"authorization": true, "Authorization": true, "proxy-authorization": true, "api_key": true, "X-API-Key": true,
		"apikey": true, "token": true, "access_token": true, "refresh_token": true, "password": true, "db.password": true,
		"secret": true, "client_secret": true, "cookie": true, "Set-Cookie": true, "x_session": true, "credentials": true,
		"tokens": false, "path": false, "ace_id": false, "method": false, "mytoken": false, "passwordless": false, "": false, "key": false,
	} {
		assert.Equal(t, want, r.SecretKey(key), key)
	}
	var none *Redactor
	assert.False(t, none.SecretKey("password"))
}

func TestCleanURLs(t *testing.T) {
	r := newRedactor(nil, false)
	for in, want := range map[string]string{
		"http://user:pw@orch:8000/x":                "http://REDACTED@orch:8000/x",
		"GET http://orch/x?api_key=abc&id=1 failed": "GET http://orch/x?api_key=REDACTED&id=1 failed",
		"/ace/getstream?id=abc&token=t":             "/ace/getstream?id=abc&token=REDACTED",
		"no url here":                               "no url here",
		"http://orch:8000/status":                   "http://orch:8000/status",
		`dial "http://a:b@h/" refused`:              `dial "http://REDACTED@h/" refused`,
	} {
		assert.Equal(t, want, r.CleanURLs(in), in)
	}
}

func TestSecretsAreRedactedInTheFiles(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c", RedactKeys: []string{"x-internal"}})
	l := slog.New(h).With("api_key", "bound-secret")
	l.Info("call",
		"authorization", "Bearer abc.def",
		"url", "http://admin:hunter2@orch:8000/provision?token=t0k&id=1",
		slog.Group("db", "password", "pw", "host", "db1"),
		"X-Internal", 4242424242,
		"error", errors.New(`Get "http://u:p@orch/x": refused`),
		"path", "/ace/getstream?id=abc",
	)
	require.NoError(t, h.Flush())
	data, err := os.ReadFile(h.Path("c"))
	require.NoError(t, err)
	for _, secret := range []string{"bound-secret", "abc.def", "hunter2", "t0k", `"pw"`, "4242424242", "u:p"} {
		assert.NotContains(t, string(data), secret)
	}
	m := only(t, h, "c")
	assert.Equal(t, Redacted, m["api_key"])
	assert.Equal(t, Redacted, m["authorization"])
	assert.Equal(t, "http://REDACTED@orch:8000/provision?id=1&token=REDACTED", m["url"])
	assert.Equal(t, map[string]any{"password": Redacted, "host": "db1"}, m["db"])
	assert.Equal(t, Redacted, m["X-Internal"])
	assert.Equal(t, `Get "http://REDACTED@orch/x": refused`, m["error"])
	assert.Equal(t, "/ace/getstream?id=abc", m["path"])

	plain := newTestHandler(t, Options{DefaultCategory: "c", NoRedaction: true})
	slog.New(plain).Info("m", "password", "visible")
	assert.Equal(t, "visible", only(t, plain, "c")["password"])
}
