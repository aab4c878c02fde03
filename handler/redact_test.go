package handler

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/config"
	"github.com/proxydebug/debugmode/internal/redact"
)

// TestQueryKeysLongerThanASecretKeyDoNotCrash logs URLs whose query keys
// start with a secret query key and are longer: the deferred path encodes
// them on the writer goroutine, where a panic would kill the process.
func TestQueryKeysLongerThanASecretKeyDoNotCrash(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	urls := []string{"http://x/?keyword=go", "http://x/?signal=1&k=v", "/a?signatures=1", "/b?keys=2&tokens=3"}
	for _, u := range urls {
		slog.New(h).Info("m", "url", u) // strings only: encoded by the writer
	}
	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, len(urls))
	for i, u := range urls {
		assert.Equal(t, u, lines[i]["url"])
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
	assert.Equal(t, redact.Redacted, m["api_key"])
	assert.Equal(t, redact.Redacted, m["authorization"])
	assert.Equal(t, "http://REDACTED@orch:8000/provision?token=REDACTED&id=1", m["url"])
	assert.Equal(t, map[string]any{"password": redact.Redacted, "host": "db1"}, m["db"])
	assert.Equal(t, redact.Redacted, m["X-Internal"])
	assert.Equal(t, `Get "http://REDACTED@orch/x": refused`, m["error"])
	assert.Equal(t, "/ace/getstream?id=abc", m["path"])

	plain := newTestHandler(t, Options{DefaultCategory: "c", NoRedaction: true})
	slog.New(plain).Info("m", "password", "visible")
	assert.Equal(t, "visible", only(t, plain, "c")["password"])
}

func TestTheMessageIsRedacted(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h).Info("GET http://u:hunter2@orch/x?token=t0k&id=1 failed")
	assert.Equal(t, "GET http://REDACTED@orch/x?token=REDACTED&id=1 failed", only(t, h, "c")["msg"])
}

// TestQuotedSecretsInTextReachNoFile is break 6 of the second trust round,
// in the files: quoted and braced values, a backslash in a value, a "/" in
// a URL's password.
func TestQuotedSecretsInTextReachNoFile(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	l := slog.New(h)
	l.Info(`login token="S1" password='S2'`, "detail", `auth={S3} key=1 secret=a\S4`, "dsn", "postgres://app:S5/x@db:5432/app")
	require.NoError(t, h.Flush())
	data, err := os.ReadFile(h.Path("c"))
	require.NoError(t, err)
	for _, secret := range []string{"S1", "S2", "S3", "S4", "S5"} {
		assert.NotContains(t, string(data), secret)
	}
	m := only(t, h, "c")
	assert.Equal(t, `login token="REDACTED" password='REDACTED'`, m["msg"])
	assert.Equal(t, `auth={REDACTED} key=1 secret=REDACTED`, m["detail"])
	assert.Equal(t, "postgres://REDACTED@db:5432/app", m["dsn"])
}

type creds struct {
	User     string
	Password string
	Inner    struct{ APIKey string }
}

type marshalsSecrets struct{}

func (marshalsSecrets) MarshalJSON() ([]byte, error) {
	return []byte(`{"client_secret": "s3", "list": [{"accessToken": "s4"}, "http://u:s5@h/"], "n": 1}`), nil
}

type valuesSecrets struct{}

func (valuesSecrets) LogValue() slog.Value {
	return slog.AnyValue(map[string]any{"Authorization": "Bearer s6", "ok": true})
}

type valuesGroup struct{}

func (valuesGroup) LogValue() slog.Value {
	return slog.GroupValue(slog.String("password", "s7"), slog.String("user", "bob"))
}

// TestInnerKeysOfValuesAreRedacted logs maps, structs, headers, JSON
// marshalers and LogValuers with secrets inside, at any depth.
func TestInnerKeysOfValuesAreRedacted(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	c := creds{User: "bob", Password: "s1"}
	c.Inner.APIKey = "s2"
	slog.New(h).Info("m",
		slog.Any("headers", http.Header{"Authorization": {"Bearer s0"}, "X-Api-Key": {"k0"}, "Accept": {"*/*"}}),
		slog.Any("creds", c),
		slog.Any("marshaler", marshalsSecrets{}),
		slog.Any("valuer", valuesSecrets{}),
		slog.Any("group", valuesGroup{}),
		slog.Any("nested", map[string]any{"a": []any{map[string]any{"token": "s8", "id": 1}}, "url": "http://h/?sig=s9"}),
		slog.Any("raw", json.RawMessage(`{"Cookie":{"a":"s10"},"esc\u0061ped_token":"s11","s":"x\"http://u:s12@h/"}`)),
		slog.Any("body", []byte("POST http://u:s13@h/?api_key=s14")),
		slog.Any("text", named("http://u:s15@h/")),
		slog.Any("url", mustURL(t, "http://u:s16@h/x?X-Amz-Signature=s17&a=1#access_token=s18")),
		slog.Any("inURL", struct{ URL *url.URL }{mustURL(t, "http://h/?token=s19&signature=s20")}),
	)
	require.NoError(t, h.Flush())
	data, err := os.ReadFile(h.Path("c"))
	require.NoError(t, err)
	for i := 0; i <= 20; i++ {
		assert.NotRegexp(t, `\bs`+strconv.Itoa(i)+`\b`, string(data))
	}
	assert.NotContains(t, string(data), "k0")
	m := only(t, h, "c")
	assert.Equal(t, map[string]any{"Authorization": redact.Redacted, "X-Api-Key": redact.Redacted, "Accept": []any{"*/*"}}, m["headers"])
	assert.Equal(t, map[string]any{"User": "bob", "Password": redact.Redacted, "Inner": map[string]any{"APIKey": redact.Redacted}}, m["creds"])
	assert.Equal(t, map[string]any{"client_secret": redact.Redacted, "list": []any{map[string]any{"accessToken": redact.Redacted}, "http://REDACTED@h/"}, "n": json.Number("1")}, m["marshaler"])
	assert.Equal(t, map[string]any{"Authorization": redact.Redacted, "ok": true}, m["valuer"])
	assert.Equal(t, map[string]any{"password": redact.Redacted, "user": "bob"}, m["group"])
	assert.Equal(t, map[string]any{"a": []any{map[string]any{"token": redact.Redacted, "id": json.Number("1")}}, "url": "http://h/?sig=REDACTED"}, m["nested"])
	assert.Equal(t, map[string]any{"Cookie": redact.Redacted, "escaped_token": redact.Redacted, "s": `x"http://REDACTED@h/`}, m["raw"])
	assert.Equal(t, "POST http://REDACTED@h/?api_key=REDACTED", m["body"])
	assert.Equal(t, "http://REDACTED@h/", m["text"])
	assert.Equal(t, "http://REDACTED@h/x?X-Amz-Signature=REDACTED&a=1#access_token=REDACTED", m["url"])
	assert.Equal(t, "token=REDACTED&signature=REDACTED", m["inURL"].(map[string]any)["URL"].(map[string]any)["RawQuery"])
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

type named string

// TestEverythingUnderASecretGroupIsRedacted: a group named like a secret
// (a slog.Group or WithGroup) keeps its shape, every value in it redacted,
// as the console shows it.
func TestEverythingUnderASecretGroupIsRedacted(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h).Info("m", slog.Group("credentials", "user", "bob", slog.Group("inner", "n", 1)), "ok", 1)
	assert.Equal(t, map[string]any{"user": redact.Redacted, "inner": map[string]any{"n": redact.Redacted}}, only(t, h, "c")["credentials"])

	h2 := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h2).WithGroup("auth").With("bound", "b").Info("m", "user", "bob")
	assert.Equal(t, map[string]any{"user": redact.Redacted, "bound": redact.Redacted}, only(t, h2, "c")["auth"])
}

// TestStableAndImmediatePathsRedactAlike encodes the same values on the
// writer goroutine (strings: a stable record) and in the caller (a zero
// time makes the record immediate), and compares the fields.
func TestStableAndImmediatePathsRedactAlike(t *testing.T) {
	values := []string{"http://u:p@h/?token=S;x=1", "(http://u:p@h/)", "#access_token=S", "http://x/?keyword=go"}
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	for _, v := range values {
		for _, tm := range []time.Time{time.Now(), {}} {
			r := slog.NewRecord(tm, slog.LevelInfo, v, 0)
			r.AddAttrs(slog.String("v", v), slog.Group("g", slog.String("accessToken", v), slog.String("v", v)))
			require.NoError(t, h.Handle(context.Background(), r))
		}
	}
	require.NoError(t, h.Flush())
	lines := readLines(t, h.Path("c"))
	require.Len(t, lines, 2*len(values))
	for i := 0; i < len(lines); i += 2 {
		for _, k := range []string{"msg", "v", "g"} {
			assert.Equal(t, lines[i][k], lines[i+1][k], k)
		}
		assert.NotContains(t, lines[i]["v"], "u:p")
		assert.NotContains(t, lines[i]["v"], "=S")
	}
}

// TestRedactionWorkIsBoundedByTheLineLimit logs a value far larger than the
// line limit, full of URLs: the line is cut first and only what fits is
// redacted, so the caller allocates on the order of the line, not of the
// value.
func TestRedactionWorkIsBoundedByTheLineLimit(t *testing.T) {
	const limit = 16 << 10
	h := newTestHandler(t, Options{DefaultCategory: "c", MaxLineBytes: limit, QueueBytes: 1 << 20})
	huge := strings.Repeat("http://u:p@h/?token=S ", (32<<20)/22)
	hugeBytes := []byte(huge)
	l := slog.New(h)
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	for name, log := range map[string]func(){
		"message":   func() { l.Info(huge) },
		"string":    func() { l.Info("m", "s", huge) },
		"error":     func() { l.Info("m", "e", errors.New(huge)) },
		"bytes":     func() { l.Info("m", "b", hugeBytes) },
		"immediate": func() { l.Info("m", "s", huge, "any", struct{}{}) },
	} {
		n := allocated(log)
		t.Logf("%s: %d bytes allocated", name, n)
		assert.Less(t, n, uint64(limit*64), "%s: %d bytes allocated for a %d-byte line", name, n, limit)
	}
	require.NoError(t, h.Flush())
	data, err := os.ReadFile(h.Path("c"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "u:p")
	assert.NotContains(t, string(data), "=S")
	for _, line := range readLines(t, h.Path("c")) {
		assert.Equal(t, true, line["truncated"])
	}
}

// TestACutNeverLeavesPartOfASecret cuts a line inside a URL's user info
// and inside a secret query value.
func TestACutNeverLeavesPartOfASecret(t *testing.T) {
	const limit = config.MinLineBytes
	h := newTestHandler(t, Options{DefaultCategory: "c", MaxLineBytes: limit})
	secret := strings.Repeat("p", 2*limit)
	l := slog.New(h)
	l.Info("m", "s", "http://user:"+secret+"@h/")
	l.Info("m", "s", "http://h/?token="+secret)
	l.Info("http://user:" + secret + "@h/")
	require.NoError(t, h.Flush())
	data, err := os.ReadFile(h.Path("c"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "ppp")
	assert.NotContains(t, string(data), "user")
}

type contentID struct{ id string }

func (c contentID) String() string { return "content " + c.id }

// TestAValueWithOnlyAStringMethodIsItsString: no exported field (JSON {})
// and a String method: the files write its String, as the console shows it.
func TestAValueWithOnlyAStringMethodIsItsString(t *testing.T) {
	h := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h).Info("m", "id", contentID{"94c2"}, "leak", contentID{"token=S"})
	m := only(t, h, "c")
	assert.Equal(t, "content 94c2", m["id"])
	assert.Equal(t, "content token=REDACTED", m["leak"])
}
