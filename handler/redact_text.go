package handler

import "strings"

// RedactText returns s with the credentials in it replaced by REDACTED,
// everything else kept byte for byte:
//
//   - the user info of every URL, wherever it stands (inside a word, in
//     parentheses, after "url="): what lies between "://" and the last "@"
//     before the host ends (at "/", "?", "#" or the end of the word);
//   - the value of every secret parameter after a "?" or "#": the text is
//     read as key=value pairs separated by "&" or ";" (whether or not a URL
//     parser would accept it), and a pair whose percent-decoded key is
//     secret (SecretKey, or key, sig, signature and keys ending in them)
//     has its value replaced.
//
// A word ends at white space, a control character or one of "<>`{}|\^;
// nothing is read across it. Text without "://", "?" or "#" is returned as
// it is, without allocating.
func (r *Redactor) RedactText(s string) string { return r.redactText(s, false) }

// redactText is RedactText for s that may have been cut from a longer
// text (cut): a URL whose host part runs to the end of s then has it all
// redacted, since the "@" that would show it is user info may be past the
// cut.
func (r *Redactor) redactText(s string, cut bool) string {
	if r == nil || (strings.IndexByte(s, '?') < 0 && strings.IndexByte(s, '#') < 0 && !strings.Contains(s, "://")) {
		return s
	}
	return r.redactParams(redactUserInfo(s, cut))
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

// redactParams replaces the values of the secret parameters after each
// "?" and "#" in s.
func (r *Redactor) redactParams(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b
	for i := strings.IndexAny(s, "?#"); i >= 0; {
		k := i + 1
		for {
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
				if k > v && s[v:k] != redactedInText && r.secretParam(s[p:v-1]) {
					b.Grow(len(s) - done)
					b.WriteString(s[done:v])
					b.WriteString(redactedInText)
					done = k
				}
			}
			if k >= len(s) || endsWord(s[k]) {
				break
			}
			k++ // past the "&", ";", "?" or "#" that ends the pair
		}
		if k >= len(s) {
			break
		}
		next := strings.IndexAny(s[k:], "?#")
		if next < 0 {
			break
		}
		i = k + next
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// endsWord reports whether c cannot be part of a URL as written in text:
// white space, control characters, and the characters a URL must escape
// that text puts around one.
func endsWord(c byte) bool {
	switch c {
	case '"', '<', '>', '`', '{', '}', '|', '\\', '^', 0x7f:
		return true
	}
	return c <= ' '
}

// endsHost reports whether c ends a URL's authority (user info and host).
func endsHost(c byte) bool { return c == '/' || c == '?' || c == '#' || endsWord(c) }

// endsPair reports whether c ends a key=value pair.
func endsPair(c byte) bool { return c == '&' || c == ';' || c == '?' || c == '#' || endsWord(c) }
