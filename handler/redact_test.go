package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
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

// TestSecretKeysAreWords checks that a key is secret when its trailing
// words are a secret key's words, whatever separates them: camelCase,
// acronyms, _ - . space and other punctuation.
func TestSecretKeysAreWords(t *testing.T) {
	r := newRedactor([]string{"pin", "x-session"}, false)
	for key, want := range map[string]bool{
		"accessToken": true, "AccessToken": true, "xApiKey": true, "apiKey": true, "APIKey": true, "XApiKey": true,
		"X-Api-Key": true, "APIKEY": true, "x api key": true, "oauthToken": true, "OAuthToken": true, "oauth2Token": true,
		"userPassword": true, "user[password]": true, "db:password": true, "basic_auth": true, "auth": true,
		"X-Auth-Token": true, "clientSecret": true, "sessionCookie": true, "Pin": true, "userPIN": true,
		"xSession": true, "X_SESSION": true, "__token__": true, "private_key": true, "privateKey": true,
		"tokenCount": false, "token_type": false, "author": false, "oauth": false, "authMethod": false,
		"keyword": false, "monkey": false, "spinner": false, "session": false, "sessionID": false,
		"secretary": false, "cookies_enabled": false, "apiKeyID": false, "k": false, "_": false, "-": false,
		"ÄccessToken": true, "accessTökenx": false, "\xff": false, "Ke": false, "cacheKey": false,
	} {
		assert.Equal(t, want, r.SecretKey(key), "%q", key)
	}
}

func TestSecretQueryKeys(t *testing.T) {
	r := newRedactor(nil, false)
	for key, want := range map[string]bool{
		"key": true, "sig": true, "signature": true, "X-Amz-Signature": true, "X-Goog-Signature": true, "auth": true,
		"subscription-key": true, "api_key": true, "token": true, "X-Amz-Security-Token": true, "%74oken": true,
		"keyword": false, "signal": false, "k": false, "s": false, "signatures": false, "X-Amz-Date": false, "id": false,
	} {
		assert.Equal(t, want, r.secretPair(key, true), "%q", key)
	}
}

func TestRedactText(t *testing.T) {
	r := newRedactor(nil, false)
	for in, want := range map[string]string{
		"http://user:pw@orch:8000/x":                "http://REDACTED@orch:8000/x",
		"GET http://orch/x?api_key=abc&id=1 failed": "GET http://orch/x?api_key=REDACTED&id=1 failed",
		"/ace/getstream?id=abc&token=t":             "/ace/getstream?id=abc&token=REDACTED",
		"no url here":                               "no url here",
		"http://orch:8000/status":                   "http://orch:8000/status",
		`dial "http://a:b@h/" refused`:              `dial "http://REDACTED@h/" refused`,
		// Query keys that only start like a secret one are not secret.
		"http://x/?keyword=go":         "http://x/?keyword=go",
		"?signal=1":                    "?signal=1",
		"http://x/?k=v&s=w":            "http://x/?k=v&s=w",
		"http://x/?signatures=2&key=1": "http://x/?signatures=2&key=REDACTED",
		// URLs inside longer words.
		"(http://u:p@h/)":             "(http://REDACTED@h/)",
		"url=http://u:p@h/":           "url=http://REDACTED@h/",
		"[redis://:pw@cache:6379/0]":  "[redis://REDACTED@cache:6379/0]",
		"x='http://u:p@h'":            "x='http://REDACTED@h'",
		"http://u:p@ss@h/":            "http://REDACTED@h/",
		"https://mastodon.social/@me": "https://mastodon.social/@me",
		// A query url.ParseQuery rejects: redacted pair by pair, the rest kept.
		"http://h/?token=S;x=1":          "http://h/?token=REDACTED;x=1",
		"http://h/?a=%zz&token=S&b=%":    "http://h/?a=%zz&token=REDACTED&b=%",
		"http://h/?token=S==&x=1":        "http://h/?token=REDACTED&x=1",
		"http://h/?x&token&token=&sig=S": "http://h/?x&token&token=&sig=REDACTED",
		// Fragments, and the keys of signed URLs.
		"https://app/cb#access_token=S&token_type=bearer": "https://app/cb#access_token=REDACTED&token_type=bearer",
		"https://b.s3/o?X-Amz-Date=1&X-Amz-Signature=S":   "https://b.s3/o?X-Amz-Date=1&X-Amz-Signature=REDACTED",
		"http://h/?auth=S":                    "http://h/?auth=REDACTED",
		"http://h/?%74oken=S":                 "http://h/?%74oken=REDACTED",
		"http://h/?next=/cb?code=1&token=S":   "http://h/?next=/cb?code=1&token=REDACTED",
		"http://h/?next=http://u:p@i/?sig=S":  "http://h/?next=http://REDACTED@i/?sig=REDACTED",
		"GET /x?token=S HTTP/1.1":             "GET /x?token=REDACTED HTTP/1.1",
		`{"url":"http://h/?token=S"}`:         `{"url":"http://h/?token=REDACTED"}`,
		"issue #12, really? yes":              "issue #12, really? yes",
		"a?b#c&d;e=f":                         "a?b#c&d;e=f",
		"http://REDACTED@h/?token=REDACTED":   "http://REDACTED@h/?token=REDACTED",
		"http://h/?token=S\nhttp://u:p@h2/":   "http://h/?token=REDACTED\nhttp://REDACTED@h2/",
		"://u:p@h":                            "://REDACTED@h",
		"http://@h/":                          "http://@h/",
		"?=S&token=":                          "?=S&token=",
		"\xff?token=\xfe\xfd&x=\xff://\xfe@h": "\xff?token=REDACTED&x=\xff://REDACTED@h",
		// key=value pairs outside URLs: secret attribute keys, sig and
		// signature; key only in a query or fragment.
		"login password=hunter2 ok":             "login password=REDACTED ok",
		"user=bob&password=x;accessToken=y":     "user=bob&password=REDACTED;accessToken=REDACTED",
		"cache key=user:42 sig=1, ?key=2 key=3": "cache key=user:42 sig=REDACTED, ?key=REDACTED key=3",
		"(token=S) [auth=S]":                    "(token=REDACTED) [auth=REDACTED]",
		"a=b=c token=x==":                       "a=b=c token=REDACTED",
	} {
		assert.Equal(t, want, r.RedactText(in), "%q", in)
	}
	var none *Redactor
	assert.Equal(t, "http://u:p@h/?token=S", none.RedactText("http://u:p@h/?token=S"))
}

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
	assert.Equal(t, Redacted, m["api_key"])
	assert.Equal(t, Redacted, m["authorization"])
	assert.Equal(t, "http://REDACTED@orch:8000/provision?token=REDACTED&id=1", m["url"])
	assert.Equal(t, map[string]any{"password": Redacted, "host": "db1"}, m["db"])
	assert.Equal(t, Redacted, m["X-Internal"])
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
	assert.Equal(t, map[string]any{"Authorization": Redacted, "X-Api-Key": Redacted, "Accept": []any{"*/*"}}, m["headers"])
	assert.Equal(t, map[string]any{"User": "bob", "Password": Redacted, "Inner": map[string]any{"APIKey": Redacted}}, m["creds"])
	assert.Equal(t, map[string]any{"client_secret": Redacted, "list": []any{map[string]any{"accessToken": Redacted}, "http://REDACTED@h/"}, "n": json.Number("1")}, m["marshaler"])
	assert.Equal(t, map[string]any{"Authorization": Redacted, "ok": true}, m["valuer"])
	assert.Equal(t, map[string]any{"password": Redacted, "user": "bob"}, m["group"])
	assert.Equal(t, map[string]any{"a": []any{map[string]any{"token": Redacted, "id": json.Number("1")}}, "url": "http://h/?sig=REDACTED"}, m["nested"])
	assert.Equal(t, map[string]any{"Cookie": Redacted, "escaped_token": Redacted, "s": `x"http://REDACTED@h/`}, m["raw"])
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
	assert.Equal(t, map[string]any{"user": Redacted, "inner": map[string]any{"n": Redacted}}, only(t, h, "c")["credentials"])

	h2 := newTestHandler(t, Options{DefaultCategory: "c"})
	slog.New(h2).WithGroup("auth").With("bound", "b").Info("m", "user", "bob")
	assert.Equal(t, map[string]any{"user": Redacted, "bound": Redacted}, only(t, h2, "c")["auth"])
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

func TestDefaultRedactKeysCannotBeChanged(t *testing.T) {
	keys := DefaultRedactKeys()
	require.Contains(t, keys, "authorization")
	for i := range keys {
		keys[i] = "changed"
	}
	assert.Contains(t, DefaultRedactKeys(), "authorization")
	assert.True(t, NewRedactor().SecretKey("Authorization"))
}

// FuzzRedact checks that the redactor never panics, whatever it reads;
// that redacting twice changes nothing more; that text without a URL
// nor pair is kept as it is; that a secret query value and a URL's user info after
// any text are redacted; that a secret key keeps being secret after any
// prefix; and that valid JSON stays valid JSON.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"http://u:p@h/?token=S;x=1", "?keyword=go", "#access_token=x", "(http://a@b)", "://", "?=&;#",
		`{"Authorization":["x"],"a":{"b":"http://u:p@h"}}`, `[{"token":{"x":[1,"2"]}},"?sig=1"]`, "\xff?key=\xfe", "apiKey", "X-Amz-Signature"} {
		f.Add(s, "secret")
	}
	r := newRedactor([]string{"X-Session"}, false)
	f.Fuzz(func(t *testing.T, s, secret string) {
		once := r.RedactText(s)
		if twice := r.RedactText(once); twice != once {
			t.Fatalf("redacting %q again changed it: %q, then %q", s, once, twice)
		}
		if !strings.Contains(s, "=") && !strings.Contains(s, "://") && once != s {
			t.Fatalf("%q has no pair and no URL but became %q", s, once)
		}
		_ = r.redactText(s, true)
		_ = r.SecretKey(s)
		_ = r.secretPair(s, true)
		_ = r.secretPair(s, false)
		if strings.IndexFunc(secret, func(c rune) bool { return !('a' <= c && c <= 'z' || '0' <= c && c <= '9') }) < 0 && secret != "" {
			if got := r.RedactText(s + "?token=" + secret); !strings.HasSuffix(got, "?token="+redactedInText) {
				t.Fatalf("query secret kept: %q", got)
			}
			if got := r.RedactText(s + " http://u:" + secret + "@h/"); !strings.HasSuffix(got, " http://"+redactedInText+"@h/") {
				t.Fatalf("user info kept: %q", got)
			}
		}
		for _, key := range []string{s + "_token", s + "Token", s + ".X-Session", s + " apiKey"} {
			if !r.SecretKey(key) {
				t.Fatalf("%q is not secret", key)
			}
		}
		if r.SecretKey(s + "tokenx") {
			t.Fatalf("%q is secret", s+"tokenx")
		}
		out := r.appendJSON(nil, []byte(s))
		if json.Valid([]byte(s)) {
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(s)); err != nil {
				t.Fatal(err)
			}
			if out = r.appendJSON(nil, compact.Bytes()); !json.Valid(out) {
				t.Fatalf("valid JSON %s became invalid: %s", compact.Bytes(), out)
			}
		}
	})
}

// TestRedactAttrRedactsAnotherHandler uses RedactAttr as the ReplaceAttr
// of slog's JSON handler, as a service's own console would: secrets go,
// slog's own attributes stay as they were.
func TestRedactAttrRedactsAnotherHandler(t *testing.T) {
	var out bytes.Buffer
	red := NewRedactor()
	l := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{AddSource: true, ReplaceAttr: red.RedactAttr}))
	l.Info("GET http://u:SECRET1@h/", "accessToken", "SECRET2", slog.Any("h", http.Header{"Cookie": {"SECRET3"}}), slog.Any("lvl", slog.LevelWarn))
	assert.NotContains(t, out.String(), "SECRET")
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, "INFO", m["level"])
	assert.Equal(t, "GET http://REDACTED@h/", m["msg"])
	assert.Equal(t, Redacted, m["accessToken"])
	assert.Equal(t, `{"Cookie":"[REDACTED]"}`, m["h"])
	assert.Equal(t, "WARN", m["lvl"])
	assert.IsType(t, map[string]any{}, m["source"])
	_, err := time.Parse(time.RFC3339Nano, m["time"].(string))
	assert.NoError(t, err)
}

// contentID prints itself with String and has no exported field: its JSON
// is {}, which is no way to show it on a console.
type contentID struct{ id string }

func (c contentID) String() string { return "{id: " + c.id + "}" }

// credentials has its secret in an exported field and hides it from String.
type credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (c credentials) String() string { return "credentials of " + c.User }

type panicText struct{}

func (*panicText) MarshalText() ([]byte, error) { panic("nil receiver") }

// TestRedactAttrLeavesValuesWithoutSecretsToTheConsole: the console prints
// the program's values its own way (String, MarshalText, %+v) unless
// redaction finds a secret in them.
func TestRedactAttrLeavesValuesWithoutSecretsToTheConsole(t *testing.T) {
	var out bytes.Buffer
	red := NewRedactor()
	l := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: red.RedactAttr}))
	l.Info("stream", "id", contentID{"0000aaaa"}, "creds", credentials{User: "u", Password: "SECRET1"},
		"note", struct{ Text string }{"see http://u:SECRET2@h/x"}, "upstream", contentID{"x token=SECRET3"}, "nilText", (*panicText)(nil),
		"addr", netip.MustParseAddr("10.0.0.5"))
	text := out.String()
	assert.Contains(t, text, `id="{id: 0000aaaa}"`, "printed with its String method, not as {}")
	assert.NotContains(t, text, "SECRET")
	assert.Contains(t, text, `creds="{\"user\":\"u\",\"password\":\"[REDACTED]\"}"`, "a secret in its JSON: the redacted JSON")
	assert.Contains(t, text, `note="{\"Text\":\"see http://REDACTED@h/x\"}"`, "a secret in its JSON: the redacted JSON")
	assert.Contains(t, text, `upstream="{id: x token=REDACTED}"`, "a secret in its text only: the redacted text")
	assert.Contains(t, text, "addr=10.0.0.5", "MarshalText")
	assert.Contains(t, text, "nilText=", "a panicking MarshalText does not take the call down")
}
