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
			k = v
			for k < len(s) && !endsPair(s[k]) {
				k++
			}
			end := k
			for end > v+1 && closesText(s[end-1]) {
				end--
			}
			if end > v && s[v:end] != redactedInText && r.secretPair(s[p:v-1], query) {
				b.Grow(len(s) - done)
				b.WriteString(s[done:v])
				b.WriteString(redactedInText)
				done = end
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

// endsWord reports whether c cannot be part of a URL as written in text.
func endsWord(c byte) bool {
	switch c {
	case '"', '<', '>', '`', '{', '}', '|', '\\', '^', 0x7f:
		return true
	}
	return c <= ' '
}

// closesText reports whether c, ending a value, more likely closes the text around it.
func closesText(c byte) bool { return c == ')' || c == ']' || c == '\'' || c == ',' || c == '.' }

// endsHost reports whether c ends a URL's authority (user info and host).
func endsHost(c byte) bool { return c == '/' || c == '?' || c == '#' || endsWord(c) }

// endsPair reports whether c ends a key=value pair.
func endsPair(c byte) bool { return c == '&' || c == ';' || c == '?' || c == '#' || endsWord(c) }
