package redact

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretKeys(t *testing.T) {
	r := New("X-Session")
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
	r := New("pin", "x-session")
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
	r := New()
	for key, want := range map[string]bool{
		"key": true, "sig": true, "signature": true, "X-Amz-Signature": true, "X-Goog-Signature": true, "auth": true,
		"subscription-key": true, "api_key": true, "token": true, "X-Amz-Security-Token": true, "%74oken": true,
		"keyword": false, "signal": false, "k": false, "s": false, "signatures": false, "X-Amz-Date": false, "id": false,
	} {
		assert.Equal(t, want, r.secretPair(key, true), "%q", key)
	}
}

func TestRedactText(t *testing.T) {
	r := New()
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

// TestQuotedAndBracketedSecretsAreRedacted is break 6 of the second trust
// round: a quoted or braced value, a backslash in a value or a slash in a
// URL's password passed to the files, both consoles and the trace.
func TestQuotedAndBracketedSecretsAreRedacted(t *testing.T) {
	r := New()
	for in, want := range map[string]string{
		`token="S"`:                           `token="REDACTED"`,
		`login password="S x" ok`:             `login password="REDACTED" ok`,
		`password='S'`:                        `password='REDACTED'`,
		"token=`S`":                           "token=`REDACTED`",
		`token="a\"S" next=1`:                 `token="REDACTED" next=1`,
		`msg="token=\"S\""`:                   `msg="token=\"REDACTED\""`,
		`token="unclosed S`:                   `token="REDACTED`,
		`token={S}`:                           `token={REDACTED}`,
		`token={"a":{"b":"S"}} x`:             `token={REDACTED} x`,
		`token=[S T]`:                         `token=[REDACTED]`,
		`token={unclosed S`:                   `token={REDACTED`,
		`token=a\S`:                           `token=REDACTED`,
		`token=a{S}|^<>`:                      `token=REDACTED>`,
		`upstream={id: x token=S}`:            `upstream={id: x token=REDACTED}`,
		`token="S"password="T"`:               `token="REDACTED"password="REDACTED"`,
		`msg="token=S"`:                       `msg="token=REDACTED"`,
		`{"url":"http://h/?token=S"}`:         `{"url":"http://h/?token=REDACTED"}`,
		"postgres://user:p/w@db:5432/x":       "postgres://REDACTED@db:5432/x",
		"amqp://u:a/b/c@mq/vhost ok":          "amqp://REDACTED@mq/vhost ok",
		"https://host:8080/@alice":            "https://host:8080/@alice",
		"https://mastodon.social/@me":         "https://mastodon.social/@me",
		"see http://h/a:b/c@d":                "see http://h/a:b/c@d",
		`user="bob" note="a=b" token="S" k=1`: `user="bob" note="a=b" token="REDACTED" k=1`,
	} {
		assert.Equal(t, want, r.RedactText(in), "%q", in)
	}
	var none *Redactor
	assert.Equal(t, "http://u:p@h/?token=S", none.RedactText("http://u:p@h/?token=S"))
}

func TestExtraKeysLeaveTheDefaults(t *testing.T) {
	assert.True(t, New("session").SecretKey("x-session"))
	assert.False(t, New().SecretKey("x-session"), "extra keys are the Redactor's own")
	assert.True(t, New().SecretKey("Authorization"))
}

// FuzzRedact checks that the redactor never panics, whatever it reads;
// that redacting twice changes nothing more; that text without a URL
// nor pair is kept as it is; that a secret query value and a URL's user info after
// any text are redacted; that a secret key keeps being secret after any
// prefix; and that valid JSON stays valid JSON.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"http://u:p@h/?token=S;x=1", "?keyword=go", "#access_token=x", "(http://a@b)", "://", "?=&;#",
		`{"Authorization":["x"],"a":{"b":"http://u:p@h"}}`, `[{"token":{"x":[1,"2"]}},"?sig=1"]`, "\xff?key=\xfe", "apiKey", "X-Amz-Signature", `sig="`, `token={"a":[1]}`, "postgres://u:p/w@h/x"} {
		f.Add(s, "secret")
	}
	r := New("X-Session")
	f.Fuzz(func(t *testing.T, s, secret string) {
		once := r.RedactText(s)
		if twice := r.RedactText(once); twice != once {
			t.Fatalf("redacting %q again changed it: %q, then %q", s, once, twice)
		}
		if !strings.Contains(s, "=") && !strings.Contains(s, "://") && once != s {
			t.Fatalf("%q has no pair and no URL but became %q", s, once)
		}
		_ = r.RedactTextCut(s, true)
		_ = r.SecretKey(s)
		_ = r.secretPair(s, true)
		_ = r.secretPair(s, false)
		if strings.IndexFunc(secret, func(c rune) bool { return !('a' <= c && c <= 'z' || '0' <= c && c <= '9') }) < 0 && secret != "" {
			// Redacted: on its own, or with the rest of a value s opened (an
			// unclosed quote or bracket after a secret key runs to the end).
			if got := r.RedactText(s + "?token=" + secret); strings.HasSuffix(got, "?token="+secret) {
				t.Fatalf("query secret kept: %q", got)
			}
			if got := r.RedactText(s + " http://u:" + secret + "@h/"); strings.HasSuffix(got, "u:"+secret+"@h/") {
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
		out := r.AppendJSON(nil, []byte(s))
		if json.Valid([]byte(s)) {
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(s)); err != nil {
				t.Fatal(err)
			}
			if out = r.AppendJSON(nil, compact.Bytes()); !json.Valid(out) {
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
	red := New()
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

// TestRedactAttrRendersValuesAsTheFilesDo: the console shows a program's
// value as the files write it (its JSON; a value with a String method and
// no exported field, its String), redacted; fmt's %+v never runs.
func TestRedactAttrRendersValuesAsTheFilesDo(t *testing.T) {
	var out bytes.Buffer
	red := New()
	l := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: red.RedactAttr}))
	l.Info("stream", "id", contentID{"0000aaaa"}, "creds", credentials{User: "u", Password: "SECRET1"},
		"note", struct{ Text string }{"see http://u:SECRET2@h/x"}, "upstream", contentID{"x token=SECRET3"}, "nilText", (*panicText)(nil),
		"addr", netip.MustParseAddr("10.0.0.5"))
	text := out.String()
	assert.Contains(t, text, `id="{id: 0000aaaa}"`, "printed with its String method, not as {}")
	assert.NotContains(t, text, "SECRET")
	assert.Contains(t, text, `creds="{\"user\":\"u\",\"password\":\"[REDACTED]\"}"`, "its JSON, redacted")
	assert.Contains(t, text, `note="{\"Text\":\"see http://REDACTED@h/x\"}"`, "its JSON, redacted")
	assert.Contains(t, text, `upstream="{id: x token=REDACTED}"`, "its String, redacted as text")
	assert.Contains(t, text, "addr=10.0.0.5", "MarshalText, as JSON has it")
	assert.Contains(t, text, "nilText=", "a panicking MarshalText does not take the call down")
}

type hidesItsPassword struct {
	user, password string
}

type chanAndSecret struct {
	Password string
	C        chan int
}

type badMarshaler struct{ secret string }

func (b badMarshaler) MarshalJSON() ([]byte, error) { return []byte("{" + b.secret), nil }

// TestTheConsoleShowsNoSecretTheFilesHide is break 7 of the second trust
// round: values whose JSON fails or hides a field (an unexported password,
// a struct with a chan, NaN, a cycle, a bad MarshalJSON) were printed with
// %+v on the console, secrets and all, while the files wrote {} or !ERROR.
func TestTheConsoleShowsNoSecretTheFilesHide(t *testing.T) {
	cyclic := map[string]any{"password": "SECRET5"}
	cyclic["self"] = cyclic
	var out bytes.Buffer
	red := New()
	l := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: red.RedactAttr}))
	l.Info("values", "hidden", hidesItsPassword{"bob", "SECRET1"}, "chan", chanAndSecret{"SECRET2", make(chan int)},
		"nan", struct {
			F  float64
			Pw string
		}{math.NaN(), "SECRET3"}, "bad", badMarshaler{"SECRET4"}, "cycle", cyclic)
	text := out.String()
	assert.NotContains(t, text, "SECRET")
	assert.Contains(t, text, "hidden={}", "what its JSON shows")
	assert.Contains(t, text, `chan="!ERROR:json: unsupported type: chan int"`)
	assert.Contains(t, text, "cycle=\"!ERROR:json: unsupported value: encountered a cycle")
}

// TestChangesOnlyWhenRedactAttrMay: where Changes says no, RedactAttr gives
// the attribute back as a handler shows it; where a secret shows, it says yes.
func TestChangesOnlyWhenRedactAttrMay(t *testing.T) {
	r := New()
	show := func(a slog.Attr) string {
		var b bytes.Buffer
		rec := slog.NewRecord(time.Time{}, slog.LevelInfo, "", 0)
		rec.AddAttrs(a)
		require.NoError(t, slog.NewTextHandler(&b, nil).Handle(context.Background(), rec))
		return b.String()
	}
	for _, tc := range []struct {
		a       slog.Attr
		secret  bool // under a secret group
		changes bool
	}{
		{slog.String("path", "/ace/getstream"), false, false},
		{slog.Int("status_code", 200), false, false},
		{slog.Duration("duration", time.Second), false, false},
		{slog.Bool("ok", true), false, false},
		{slog.Group("engine", slog.String("host", "10.0.0.5"), slog.Int("port", 6878)), false, false},
		{slog.Any("level", slog.LevelWarn), false, false},
		{slog.Attr{}, true, false},
		{slog.String("url", "http://user:pw@host/x"), false, true},
		{slog.String("query", "a=1&token=abc"), false, true},
		{slog.String("token", "abc"), false, true},
		{slog.Int("password", 1234), false, true},
		{slog.Int("port", 1), true, true},
		{slog.Group("auth", slog.String("user", "u")), false, true},
		{slog.Any("error", http.ErrHandlerTimeout), false, true}, // an error becomes its text: said to change
		{slog.Any("addr", netip.MustParseAddr("10.0.0.1")), false, true},
	} {
		assert.Equal(t, tc.changes, r.Changes(tc.a, tc.secret), "%v", tc.a)
		var groups []string
		if tc.secret {
			groups = []string{"credentials"}
		}
		if !tc.changes {
			assert.Equal(t, show(tc.a), show(r.RedactAttr(groups, tc.a)), "%v", tc.a)
		}
	}
	var none *Redactor
	assert.False(t, none.Changes(slog.String("token", "x"), false))
}
