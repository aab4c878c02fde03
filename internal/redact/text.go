package redact

import "strings"

// RedactText returns s with credentials replaced by REDACTED, all else byte for
// byte: the user info of every URL (between "://" and the last "@" of the host),
// and the value of every key=value pair (split at space & ; ? #, a closing
// ) ] ' , . kept) whose key is secret: SecretKey's, sig or signature, and in a
// query or fragment also key. Text without "=" or "://" is not copied.
func (r *Redactor) RedactText(s string) string { return r.RedactTextCut(s, false) }

// RedactTextCut is RedactText for s maybe cut from a longer text: a host running
// to the end of s is redacted whole, since its "@" may be past the cut.
func (r *Redactor) RedactTextCut(s string, cut bool) string {
	hasPair := strings.IndexByte(s, '=') >= 0
	hasURL := strings.IndexByte(s, ':') >= 0 && strings.Contains(s, "://") // the first is faster
	if r == nil || (!hasPair && !hasURL) {
		return s
	}
	if hasURL {
		s = redactUserInfo(s, cut)
	}
	if hasPair {
		s = r.redactPairs(s)
	}
	return s
}

// redactUserInfo replaces the user info of the URLs in s.
func redactUserInfo(s string, cut bool) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	var b strings.Builder
	done := 0 // s[:done] is in b
	for {
		start := i + len("://")
		end := start
		for end < len(s) && !endsHost(s[end]) {
			end++
		}
		to := start + strings.LastIndexByte(s[start:end], '@')
		if to < start {
			if to = start + passwordWithSlash(s[start:], end-start); to > end {
				end = to // the next URL is looked for past this one's user info
			}
		}
		if to < start && cut && end == len(s) {
			to = end
		}
		if to > start && s[start:to] != redactedInText {
			b.Grow(len(s) - done)
			b.WriteString(s[done:start])
			b.WriteString(redactedInText)
			done = to
		}
		next := strings.Index(s[end:], "://")
		if next < 0 {
			break
		}
		i = end + next
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// redactPairs replaces the values of the secret key=value pairs in s.
func (r *Redactor) redactPairs(s string) string {
	var b strings.Builder
	done := 0      // s[:done] is in b
	query := false // after a "?" or "#" in this word
	for k := 0; k < len(s); {
		p := k // a pair starts
		for k < len(s) && s[k] != '=' && !endsPair(s[k]) {
			k++
		}
		if k < len(s) && s[k] == '=' {
			v := k + 1
			if !r.secretPair(s[p:k], query) {
				// Not secret: go on from the value, whose text may hold pairs.
				for k = v; k < len(s) && !endsPair(s[k]); k++ {
				}
			} else {
				start, end, next := secretValue(s, v)
				if end > start && s[start:end] != redactedInText {
					b.Grow(len(s) - done)
					b.WriteString(s[done:start])
					b.WriteString(redactedInText)
					done = end
				}
				if k = next; k < len(s) && !endsPair(s[k]) && !endsSecretValue(s[k]) {
					continue // after a closing quote or bracket: the next pair may start here
				}
			}
		}
		if k < len(s) {
			switch c := s[k]; {
			case c == '?' || c == '#':
				query = true
			case endsWord(c):
				query = false
			}
			k++ // past the separator
		}
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// secretValue returns the bounds of the value of a secret pair starting at
// v (what to redact) and where the text goes on. A quoted value ("S", 'S',
// `S`, \"S\") or a bracketed one ({S}, [S], (S)) is redacted inside its
// quotes or brackets, to the text's end if they are not closed; another
// runs to a space, & ; ? # or a quote, backslashes and braces included,
// less a closing ) ] } > ' , . at its end.
func secretValue(s string, v int) (start, end, next int) {
	if v >= len(s) {
		return v, v, v
	}
	if open := s[v]; open == '"' || open == '\'' || open == '`' || open == '\\' && strings.HasPrefix(s[v:], `\"`) {
		quote := s[v : v+1]
		if open == '\\' {
			quote = `\"`
		}
		start = v + len(quote)
		for i := start; i < len(s); i++ {
			if strings.HasPrefix(s[i:], quote) {
				return start, i, i + len(quote)
			}
			if s[i] == '\\' && open == '"' {
				i++ // an escaped character
			}
		}
		return start, len(s), len(s)
	}
	if closer := closing(s[v]); closer != 0 {
		depth := 0
		for i := v; i < len(s); i++ {
			switch s[i] {
			case s[v]:
				depth++
			case closer:
				if depth--; depth == 0 {
					return v + 1, i, i + 1
				}
			}
		}
		return v + 1, len(s), len(s)
	}
	end = v
	for end < len(s) && !endsSecretValue(s[end]) {
		end++
	}
	next = end
	for end > v+1 && closesText(s[end-1]) {
		end--
	}
	return v, end, next
}

// closing returns the bracket that closes open, or 0.
func closing(open byte) byte {
	switch open {
	case '{':
		return '}'
	case '[':
		return ']'
	case '(':
		return ')'
	}
	return 0
}

// endsSecretValue reports whether c ends a secret pair's unquoted value.
func endsSecretValue(c byte) bool {
	switch c {
	case '&', ';', '?', '#', '"', '`', 0x7f:
		return true
	}
	return c <= ' '
}

// passwordWithSlash returns where the user info of a URL's authority ends
// (its "@") when a "/" in the password cut the authority short at end
// (postgres://user:p/w@db/x), else -1. A ":" followed by digits only is a
// port (https://host:8080/@alice), not a password.
func passwordWithSlash(s string, end int) int {
	colon := strings.IndexByte(s[:end], ':')
	if colon < 0 || strings.Trim(s[colon+1:end], "0123456789") == "" {
		return -1
	}
	word := len(s)
	for i := end; i < len(s); i++ {
		if endsWord(s[i]) {
			word = i
			break
		}
	}
	at := strings.IndexByte(s[end:word], '@')
	if at < 0 {
		return -1
	}
	at += end
	host := at + 1 // the host ends at the first / ? # after the first "@"
	for host < word && s[host] != '/' && s[host] != '?' && s[host] != '#' {
		host++
	}
	return strings.LastIndexByte(s[:host], '@')
}

// endsWord reports whether c cannot be part of a URL as written in text.
func endsWord(c byte) bool {
	switch c {
	case '"', '<', '>', '`', '{', '}', '|', '\\', '^', 0x7f:
		return true
	}
	return c <= ' '
}

// closesText reports whether c, ending a value, more likely closes the text around it.
func closesText(c byte) bool {
	return c == ')' || c == ']' || c == '}' || c == '>' || c == '\'' || c == ',' || c == '.'
}

// endsHost reports whether c ends a URL's authority (user info and host).
func endsHost(c byte) bool { return c == '/' || c == '?' || c == '#' || endsWord(c) }

// endsPair reports whether c ends a key=value pair.
func endsPair(c byte) bool { return c == '&' || c == ';' || c == '?' || c == '#' || endsWord(c) }
