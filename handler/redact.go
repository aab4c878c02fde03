package handler

import (
	"net/url"
	"strings"
)

// Redacted replaces the values of secret attributes.
const Redacted = "[REDACTED]"

// redactedInURL replaces credentials inside URLs (no characters that need
// escaping there).
const redactedInURL = "REDACTED"

// DefaultRedactKeys are attribute keys whose values are never written:
// a key equal to one of them, or ending in "_" or "-" and one of them
// (x_api_key, access_token, proxy-authorization), in any case.
var DefaultRedactKeys = []string{"authorization", "api_key", "apikey", "token", "password", "passwd", "secret", "cookie", "set_cookie", "credentials"}

// Redactor decides which attribute keys are secret and cleans credentials
// out of URLs in values. A nil *Redactor redacts nothing.
type Redactor struct {
	keys []string // lower case, '-' written as '_'
	// byLast indexes keys by their last byte, so that most attribute keys
	// are cleared with one table lookup.
	byLast [256][]string
}

// NewRedactor returns a Redactor for DefaultRedactKeys and extra.
func NewRedactor(extra ...string) *Redactor { return newRedactor(extra, false) }

func newRedactor(extra []string, disabled bool) *Redactor {
	if disabled {
		return nil
	}
	r := &Redactor{}
	for _, k := range append(append([]string(nil), DefaultRedactKeys...), extra...) {
		if k = normalizeKey(k); k != "" {
			r.keys = append(r.keys, k)
			last := k[len(k)-1]
			r.byLast[last] = append(r.byLast[last], k)
			if 'a' <= last && last <= 'z' {
				r.byLast[last-'a'+'A'] = append(r.byLast[last-'a'+'A'], k)
			} else if last == '_' {
				r.byLast['-'] = append(r.byLast['-'], k)
			}
		}
	}
	return r
}

func normalizeKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
}

// SecretKey reports whether key names a secret. It does not allocate.
func (r *Redactor) SecretKey(key string) bool {
	if r == nil || len(key) < 3 {
		return false
	}
	for _, k := range r.byLast[key[len(key)-1]] {
		if len(key) < len(k) {
			continue
		}
		tail := key[len(key)-len(k):]
		if !equalFoldKey(tail, k) {
			continue
		}
		if len(key) == len(k) {
			return true
		}
		if c := key[len(key)-len(k)-1]; c == '_' || c == '-' || c == '.' {
			return true
		}
	}
	return false
}

// equalFoldKey compares s with the normalized key k, folding ASCII case
// and reading '-' as '_'.
func equalFoldKey(s, k string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '-' {
			c = '_'
		}
		if c != k[i] {
			return false
		}
	}
	return true
}

// CleanURLs returns s with the credentials of any URL in it redacted: the
// user info (user:password@) and the values of secret query parameters.
// Strings without "://" or "?" are returned as they are, cheaply.
func (r *Redactor) CleanURLs(s string) string {
	if r == nil || (strings.IndexByte(s, '?') < 0 && !strings.Contains(s, "://")) {
		return s
	}
	var b strings.Builder
	changed := false
	rest := s
	for len(rest) > 0 {
		i := strings.IndexAny(rest, " \t\"'<>")
		word := rest
		if i >= 0 {
			word = rest[:i]
		}
		if cleaned, ok := r.cleanURL(word); ok {
			b.WriteString(cleaned)
			changed = true
		} else {
			b.WriteString(word)
		}
		if i < 0 {
			break
		}
		b.WriteByte(rest[i])
		rest = rest[i+1:]
	}
	if !changed {
		return s
	}
	return b.String()
}

// cleanURL redacts one URL-looking word; ok is false when nothing changed.
func (r *Redactor) cleanURL(word string) (string, bool) {
	if !strings.Contains(word, "://") && !strings.Contains(word, "?") {
		return word, false
	}
	u, err := url.Parse(word)
	if err != nil {
		return word, false
	}
	changed := false
	if u.User != nil {
		u.User = url.User(redactedInURL)
		changed = true
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err == nil {
			for k := range q {
				if r.SecretKey(k) || equalFoldKey(k, "key") || equalFoldKey(k, "sig") || equalFoldKey(k, "signature") {
					q[k] = []string{redactedInURL}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	if !changed {
		return word, false
	}
	return u.String(), true
}
