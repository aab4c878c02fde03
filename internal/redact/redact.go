// Package redact is the module's one redaction: which attribute keys are
// secret, and how credentials are cleaned out of text and values.
package redact

import (
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/proxydebug/debugmode/internal/jsonenc"
	"github.com/proxydebug/debugmode/internal/safeerr"
)

// Redacted replaces the values of secret attributes.
const Redacted = "[REDACTED]"

// redactedInText replaces credentials inside text; it needs no escaping in URL or JSON.
const redactedInText = "REDACTED"

// defaultRedactKeys are the secret attribute keys (an array: immutable). A key
// matches by its last words, in any case, split at non-alphanumerics and camelCase:
// "token" matches accessToken and X-Auth-Token, not tokenCount; "api_key" APIKey.
var defaultRedactKeys = [...]string{
	"authorization", "auth", "api_key", "apikey", "token", "password", "passwd", "passphrase",
	"secret", "cookie", "credentials", "credential", "private_key", "secret_key", "access_key",
}

// defaultPairKeys are secret as the keys of key=value pairs in text only:
// as attribute keys they often name harmless things (a content signature).
var defaultPairKeys = [...]string{"sig", "signature"}

// defaultQueryKeys are secret as query and fragment parameters only:
// "key=" in other text is too often a cache key.
var defaultQueryKeys = [...]string{"key"}

// Redactor decides which keys are secret and cleans credentials out of text
// and values. It is immutable; a nil *Redactor redacts nothing.
type Redactor struct {
	attrs  keySet // secret attribute keys (and JSON object keys)
	pairs  keySet // secret keys of key=value pairs in text: attrs and defaultPairKeys
	params keySet // secret query and fragment parameters: pairs and defaultQueryKeys
}

// New returns a Redactor for the default keys and extra.
func New(extra ...string) *Redactor {
	attrs := slices.Concat(defaultRedactKeys[:], extra)
	pairs := slices.Concat(attrs, defaultPairKeys[:])
	return &Redactor{attrs: newKeySet(attrs), pairs: newKeySet(pairs), params: newKeySet(slices.Concat(pairs, defaultQueryKeys[:]))}
}

var defaultRedactor = New()

// Default returns the Redactor of the default keys, shared.
func Default() *Redactor { return defaultRedactor }

// SecretKey reports whether an attribute key names a secret, without allocating.
func (r *Redactor) SecretKey(key string) bool { return r != nil && r.attrs.match(key) }

// secretPair reports whether a key=value key in text (maybe percent-encoded) is secret.
func (r *Redactor) secretPair(key string, query bool) bool {
	if strings.IndexByte(key, '%') >= 0 {
		key = percentDecode(key)
	}
	if query {
		return r.params.match(key)
	}
	return r.pairs.match(key)
}

// RedactAttr redacts a as the files do: under a secret key or group the value
// is Redacted; strings, errors, URLs and bytes go through RedactText; another
// Go value becomes the text the files write for it (its redacted JSON, or
// !ERROR:...), so a console shows what the files show. Usable as a ReplaceAttr.
func (r *Redactor) RedactAttr(groups []string, a slog.Attr) slog.Attr {
	if r == nil {
		return a
	}
	return r.redactAttr(a, slices.ContainsFunc(groups, r.SecretKey))
}

// Changes reports whether RedactAttr may change a (under a secret group when
// secret): false only when it would give a back as it is, so that a handler
// can be handed the record itself. Cheap for numbers and plain strings;
// other values (errors, URLs, structs, LogValuers) are said to change.
func (r *Redactor) Changes(a slog.Attr, secret bool) bool {
	if r == nil {
		return false
	}
	switch a.Value.Kind() {
	case slog.KindLogValuer:
		return true
	case slog.KindGroup:
		secret = secret || r.SecretKey(a.Key)
		for _, m := range a.Value.Group() {
			if r.Changes(m, secret) {
				return true
			}
		}
		return false
	case slog.KindString:
		s := a.Value.String()
		return secret || r.SecretKey(a.Key) || r.RedactText(s) != s
	case slog.KindAny:
		switch a.Value.Any().(type) {
		case nil:
			return a.Key != "" && (secret || r.SecretKey(a.Key))
		case slog.Level, *slog.Source:
			return secret || r.SecretKey(a.Key)
		}
		return true
	}
	return secret || r.SecretKey(a.Key)
}

func (r *Redactor) redactAttr(a slog.Attr, secret bool) slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		secret = secret || r.SecretKey(a.Key)
		members := a.Value.Group()
		out := make([]slog.Attr, len(members))
		for i, m := range members {
			out[i] = r.redactAttr(m, secret)
		}
		a.Value = slog.GroupValue(out...)
		return a
	}
	if a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil {
		return a // an empty attr, which handlers skip
	}
	if secret || r.SecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.RedactText(a.Value.String()))
	case slog.KindAny:
		switch x := a.Value.Any().(type) {
		case nil, slog.Level, *slog.Source:
			// Nothing secret: left for the handler to render its way.
		case error:
			a.Value = slog.StringValue(r.RedactText(safeerr.String(x)))
		case *url.URL:
			if x != nil {
				a.Value = slog.StringValue(r.RedactText(x.String()))
			}
		case url.URL:
			a.Value = slog.StringValue(r.RedactText(x.String()))
		case []byte:
			a.Value = slog.StringValue(r.RedactText(string(x)))
		default:
			a.Value = slog.StringValue(r.render(x))
		}
	}
	return a
}

// render returns x as the files write it, redacted: its JSON, a JSON
// string as its text, or the files' !ERROR text when it has none. Never fmt:
// %+v shows what JSON hides (unexported fields, a chan's struct, NaN, a bad
// MarshalJSON's value) and overflows the stack on a cyclic value.
func (r *Redactor) render(x any) string {
	js, err := jsonenc.Render(x)
	if err != nil {
		return r.RedactText(jsonenc.MarshalFailure(err))
	}
	out := r.AppendJSON(nil, js)
	if out[0] == '"' {
		return jsonStringText(out) // a view of out, which nothing else holds
	}
	return string(out)
}

// keySet matches keys by their last words.
type keySet struct {
	keys  [][]string    // each key's words, ASCII lower case
	tails [256][]string // the keys' last words by last byte, to clear most keys at once
}

// newKeySet returns the set of keys, as words.
func newKeySet(keys []string) (ks keySet) {
	for _, key := range keys {
		var words []string
		for end := len(key); ; {
			start, stop := lastWord(key, end)
			if start == stop {
				break
			}
			words = append([]string{lowerASCII(key[start:stop])}, words...)
			end = start
		}
		if len(words) == 0 {
			continue
		}
		last := words[len(words)-1]
		if c := last[len(last)-1]; !slices.Contains(ks.tails[c], last) {
			ks.tails[c] = append(ks.tails[c], last)
		}
		ks.keys = append(ks.keys, words)
	}
	return ks
}

// match reports whether the last words of key are one of the set's keys.
func (ks *keySet) match(key string) bool {
	end := len(key)
	for end > 0 && wordClass(key[end-1]) == separator {
		end--
	}
	if end == 0 {
		return false
	}
	if !slices.ContainsFunc(ks.tails[lowerByte(key[end-1])], func(w string) bool {
		return len(w) <= end && equalFoldWord(key[end-len(w):end], w)
	}) {
		return false
	}
	start, stop := lastWord(key, end)
	for _, words := range ks.keys {
		if equalFoldWord(key[start:stop], words[len(words)-1]) && endsWithWords(key[:start], words[:len(words)-1]) {
			return true
		}
	}
	return false
}

// endsWithWords reports whether the last words of s are words.
func endsWithWords(s string, words []string) bool {
	end := len(s)
	for j := len(words) - 1; j >= 0; j-- {
		start, stop := lastWord(s, end)
		if start == stop || !equalFoldWord(s[start:stop], words[j]) {
			return false
		}
		end = start
	}
	return true
}

// lastWord returns the bounds of the last word of s[:end] (start == stop: none).
// Words are runs of letters and digits, split at camelCase (accessToken, APIKey);
// non-ASCII bytes count as lower-case letters.
func lastWord(s string, end int) (start, stop int) {
	i := end
	for i > 0 && wordClass(s[i-1]) == separator {
		i--
	}
	stop = i
	for i > 0 && wordClass(s[i-1]) == digit {
		i--
	}
	if i > 0 && wordClass(s[i-1]) != separator {
		class := wordClass(s[i-1]) // upper or lower
		for i > 0 && (wordClass(s[i-1]) == class || wordClass(s[i-1]) == digit) {
			i--
		}
		if class == lower && i > 0 && wordClass(s[i-1]) == upper {
			i--
		}
	}
	return i, stop
}

const (
	separator = iota
	digit
	upper
	lower
)

// wordClass tells letters (and which case), digits and separators apart.
func wordClass(c byte) int {
	switch {
	case 'a' <= c && c <= 'z', c >= utf8.RuneSelf:
		return lower
	case 'A' <= c && c <= 'Z':
		return upper
	case '0' <= c && c <= '9':
		return digit
	}
	return separator
}

// equalFoldWord reports whether s equals the lower-case word w, ASCII case folded.
func equalFoldWord(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerByte(s[i]) != w[i] {
			return false
		}
	}
	return true
}

// lowerByte lowers the case of an ASCII letter, and only of those.
func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerASCII lowers the case of the ASCII letters of s.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return string(b)
}

// percentDecode decodes the %XX escapes of s, leaving invalid ones.
func percentDecode(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(n))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}
