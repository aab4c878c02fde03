package slogdebug

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxydebug/debugmode/internal/redact"
)

type loginForm struct {
	User     string
	Password string
}

type secretMarshaler struct{}

func (secretMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(`{"client_secret":"SECRET20","list":[{"accessToken":"SECRET21"}],"n":1}`), nil
}

type secretValuer struct{}

func (secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("password", "SECRET22"), slog.String("user", "bob"))
}

type urlText string

// TestConsoleAndFilesRedactAlike logs the same records to the console and
// the files and checks that no secret reaches either and that both show
// the same redacted form.
func TestConsoleAndFilesRedactAlike(t *testing.T) {
	readsTintConsole(t)
	const redacted = "[REDACTED]"
	for _, tc := range []struct {
		name    string
		group   string // WithGroup, if any
		msg     string
		attrs   []any
		want    map[string]string // dotted key path: the value as both show it
		wantMsg string
	}{
		{name: "message", msg: "GET http://u:SECRET1@h/x?token=SECRET2;x=1 failed", wantMsg: "GET http://REDACTED@h/x?token=REDACTED;x=1 failed"},
		{name: "camelCase keys", attrs: []any{"accessToken", "SECRET3", "xApiKey", "SECRET4", "apiKey", "SECRET5", slog.Duration("token", time.Second)},
			want: map[string]string{"accessToken": redacted, "xApiKey": redacted, "apiKey": redacted, "token": redacted}},
		{name: "http.Header", attrs: []any{slog.Any("h", http.Header{"Authorization": {"Bearer SECRET6"}, "X-Api-Key": {"SECRET7"}, "Accept": {"*/*"}})},
			want: map[string]string{"h": `{"Accept":["*/*"],"Authorization":"[REDACTED]","X-Api-Key":"[REDACTED]"}`}},
		{name: "struct", attrs: []any{slog.Any("form", loginForm{User: "bob", Password: "SECRET8"})},
			want: map[string]string{"form": `{"User":"bob","Password":"[REDACTED]"}`}},
		{name: "nested map", attrs: []any{slog.Any("m", map[string]any{"a": []any{map[string]any{"Cookie": "SECRET9"}}, "u": "http://h/?sig=SECRET10"})},
			want: map[string]string{"m": `{"a":[{"Cookie":"[REDACTED]"}],"u":"http://h/?sig=REDACTED"}`}},
		{name: "json.Marshaler", attrs: []any{slog.Any("j", secretMarshaler{})},
			want: map[string]string{"j": `{"client_secret":"[REDACTED]","list":[{"accessToken":"[REDACTED]"}],"n":1}`}},
		{name: "LogValuer", attrs: []any{slog.Any("v", secretValuer{})},
			want: map[string]string{"v.password": redacted, "v.user": "bob"}},
		{name: "group", attrs: []any{slog.Group("db", "password", "SECRET11", "host", "db1")},
			want: map[string]string{"db.password": redacted, "db.host": "db1"}},
		{name: "secret group", attrs: []any{slog.Group("credentials", "user", "SECRET12")},
			want: map[string]string{"credentials.user": redacted}},
		{name: "secret WithGroup", group: "auth", attrs: []any{"user", "SECRET13"},
			want: map[string]string{"auth.user": redacted}},
		{name: "URLs inside words", attrs: []any{"a", "(http://u:SECRET14@h/)", "b", "url=http://u:SECRET15@h/"},
			want: map[string]string{"a": "(http://REDACTED@h/)", "b": "url=http://REDACTED@h/"}},
		{name: "query and fragment", attrs: []any{"a", "http://h/?token=SECRET16;x=1", "b", "https://app/cb#access_token=SECRET17&t=1",
			"c", "http://h/?auth=SECRET18&X-Amz-Signature=SECRET19&keyword=go&signal=1&k=v"},
			want: map[string]string{"a": "http://h/?token=REDACTED;x=1", "b": "https://app/cb#access_token=REDACTED&t=1",
				"c": "http://h/?auth=REDACTED&X-Amz-Signature=REDACTED&keyword=go&signal=1&k=v"}},
		{name: "bytes, errors, named strings", attrs: []any{slog.Any("body", []byte("POST http://u:SECRET23@h/")),
			slog.Any("err", errors.New(`Get "http://h/?api_key=SECRET24": refused`)), slog.Any("t", urlText("http://u:SECRET25@h/"))},
			want: map[string]string{"body": "POST http://REDACTED@h/", "err": `Get "http://h/?api_key=REDACTED": refused`, "t": "http://REDACTED@h/"}},
		{name: "pairs in text", msg: "login user=bob password=SECRET28 (token=SECRET29)", wantMsg: "login user=bob password=REDACTED (token=REDACTED)",
			attrs: []any{slog.Any("form", []byte("user=bob&password=SECRET30"))}, want: map[string]string{"form": "user=bob&password=REDACTED"}},
		{name: "url.URL", attrs: []any{slog.Any("u", &url.URL{Scheme: "http", User: url.UserPassword("u", "SECRET26"), Host: "h", RawQuery: "sig=SECRET27"})},
			want: map[string]string{"u": "http://REDACTED@h?sig=REDACTED"}},
		{name: "nothing secret", attrs: []any{"u", "http://x/?keyword=go&signal=1&k=v", "n", 42},
			want: map[string]string{"u": "http://x/?keyword=go&signal=1&k=v", "n": "42"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, console := newDebugLogger(t, Config{NoColor: true})
			lg := l.With("category", "c")
			if tc.group != "" {
				lg = lg.WithGroup(tc.group)
			}
			msg := tc.msg
			if msg == "" {
				msg, tc.wantMsg = "m", "m"
			}
			lg.Info(msg, tc.attrs...)
			require.NoError(t, l.Flush())
			data, err := os.ReadFile(l.Path("c"))
			require.NoError(t, err)
			for _, out := range []string{console.String(), string(data)} {
				assert.NotRegexp(t, `SECRET\d`, out)
			}

			file := fileFields(t, data)
			con, conMsg := consoleFields(t, console.String())
			assert.Equal(t, tc.wantMsg, file["msg"], "file")
			assert.Equal(t, tc.wantMsg, conMsg, "console")
			for path, want := range tc.want {
				assert.Equal(t, want, file[path], "file: %s", path)
				assert.Equal(t, want, con[path], "console: %s", path)
			}
		})
	}
}

// fileFields flattens the one line of a file: group members as dotted
// paths, string values as their text, other values as their JSON.
func fileFields(t *testing.T, data []byte) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 1)
	out := map[string]string{}
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if prefix == "" || (raw[0] == '{' && isGroupPath(prefix)) {
			require.NoError(t, json.Unmarshal(raw, &obj))
			for k, v := range obj {
				walk(strings.TrimPrefix(prefix+"."+k, "."), v)
			}
			return
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[prefix] = s
		} else {
			out[prefix] = string(raw)
		}
	}
	walk("", json.RawMessage(lines[0]))
	return out
}

// isGroupPath reports whether an object at this path is a slog group
// (flattened) rather than a Go value written as JSON (kept whole).
func isGroupPath(path string) bool {
	switch path {
	case "v", "db", "credentials", "auth":
		return true
	}
	return false
}

// consoleFields parses the record's line of tint's output: its message and
// its attributes, values unquoted.
func consoleFields(t *testing.T, out string) (map[string]string, string) {
	t.Helper()
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " category=c") {
			line = l
		}
	}
	require.NotEmpty(t, line, "no record on the console: %s", out)
	_, rest, ok := strings.Cut(line, " INF ")
	require.True(t, ok, line)
	msg, rest, ok := strings.Cut(rest, " category=c")
	require.True(t, ok, line)
	fields := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		key, after, ok := strings.Cut(rest, "=")
		require.True(t, ok, "in %q", rest)
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			require.NoError(t, err, after)
			v, err := strconv.Unquote(q)
			require.NoError(t, err)
			fields[key], rest = v, after[len(q):]
			continue
		}
		v, next, _ := strings.Cut(after, " ")
		fields[key], rest = v, next
	}
	return fields, msg
}

// TestProgramsConsoleIsRedacted: a console handler the program supplies
// (Config.Console, JSON to stdout in production) shows no secret either:
// not in the message, not in attributes, groups or values bound with With.
func TestProgramsConsoleIsRedacted(t *testing.T) {
	var out strings.Builder
	l, err := New(Config{Console: slog.NewJSONHandler(&out, nil)}, nil)
	require.NoError(t, err)
	defer l.Close()
	l.With("api_key", "SECRET30").WithGroup("auth").Info("calling http://u:SECRET31@h/?token=SECRET32",
		"user", "bob")
	l.Info("login", slog.Any("form", loginForm{User: "bob", Password: "SECRET33"}),
		slog.Group("req", slog.Any("h", http.Header{"Authorization": {"Bearer SECRET34"}})))
	text := out.String()
	for i := 30; i <= 34; i++ {
		assert.NotContains(t, text, "SECRET"+strconv.Itoa(i))
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	require.Len(t, lines, 2)
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	assert.Equal(t, "calling http://REDACTED@h/?token=REDACTED", first["msg"])
	assert.Equal(t, "[REDACTED]", first["api_key"])
	assert.Equal(t, map[string]any{"user": "[REDACTED]"}, first["auth"], "inside a group named like a secret")
	assert.Equal(t, `{"User":"bob","Password":"[REDACTED]"}`, second["form"])
}

// capture keeps the records it is handed.
type capture struct{ recs []slog.Record }

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.recs = append(c.recs, r)
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

// TestProgramsConsoleGetsPlainRecordsAsTheyAre: a record with nothing to
// redact reaches the program's console as it was logged, at no cost of
// the redactor's beyond looking (no copy, no allocation); one with a
// secret is redacted.
func TestProgramsConsoleGetsPlainRecordsAsTheyAre(t *testing.T) {
	c := &capture{}
	h := &redactingHandler{Handler: c, red: redact.New()}
	ctx := context.Background()
	plain := slog.NewRecord(time.Now(), slog.LevelInfo, "stream started", 0)
	plain.AddAttrs(slog.String("id", "abc"), slog.Int("engine_port", 6878), slog.Duration("took", time.Second),
		slog.Bool("ok", true), slog.String("path", "/ace/getstream"), slog.Float64("ratio", 0.5), slog.Group("g", slog.Int("n", 1)))
	require.NoError(t, h.Handle(ctx, plain))
	require.Len(t, c.recs, 1)
	assert.Equal(t, attrsOf(plain), attrsOf(c.recs[0]))
	if !raceEnabled {
		c.recs = make([]slog.Record, 0, 1000)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = h.Handle(ctx, plain) }))
	}

	c.recs = nil
	secret := plain.Clone()
	secret.AddAttrs(slog.String("token", "SECRET40"))
	require.NoError(t, h.Handle(ctx, secret))
	require.Len(t, c.recs, 1)
	got := attrsOf(c.recs[0])
	assert.Equal(t, "[REDACTED]", got["token"])
	assert.Equal(t, "abc", got["id"])
}

func attrsOf(r slog.Record) map[string]string {
	out := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { out[a.Key] = a.Value.String(); return true })
	return out
}
