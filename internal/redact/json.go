package redact

import (
	"bytes"
	"encoding/json"
	"unsafe"

	"github.com/proxydebug/debugmode/internal/jsonenc"
)

// AppendJSON appends compact JSON js with secret members' values "[REDACTED]"
// and other strings through RedactText. It reads js once, without recursion
// (any depth is safe), and never out of js even when invalid.
func (r *Redactor) AppendJSON(buf, js []byte) []byte {
	done := 0 // js[:done] is in buf
	for i := 0; i < len(js); {
		if js[i] != '"' {
			i++
			continue
		}
		str, end := i, endOfJSONString(js, i)
		if j := skipJSONSpace(js, end); j < len(js) && js[j] == ':' {
			i = j + 1
			if r.SecretKey(jsonStringText(js[str:end])) {
				start := skipJSONSpace(js, i)
				buf = append(buf, js[done:start]...)
				buf = append(buf, `"`+Redacted+`"`...)
				done = endOfJSONValue(js, start)
				i = done
			}
			continue
		}
		text := jsonStringText(js[str:end])
		if clean := r.RedactText(text); clean != text {
			buf = append(buf, js[done:i]...)
			buf = jsonenc.AppendString(buf, clean)
			done = end
		}
		i = end
	}
	return append(buf, js[done:]...)
}

// jsonStringText returns the text of the quoted JSON string q; without
// escapes, a view of q that must not outlive it.
func jsonStringText(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 {
		if len(q) < 2 {
			return ""
		}
		body := q[1 : len(q)-1]
		return unsafe.String(unsafe.SliceData(body), len(body))
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(q)
	}
	return s
}

// endOfJSONString returns the index past the string quoted at js[i], or len(js).
func endOfJSONString(js []byte, i int) int {
	for k := i + 1; k < len(js); k++ {
		switch js[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		}
	}
	return len(js)
}

// endOfJSONValue returns the index past the value that starts at js[i].
func endOfJSONValue(js []byte, i int) int {
	if i >= len(js) {
		return len(js)
	}
	switch js[i] {
	case '"':
		return endOfJSONString(js, i)
	case '{', '[':
		depth := 0
		for k := i; k < len(js); {
			switch js[k] {
			case '"':
				k = endOfJSONString(js, k)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return k + 1
				}
			}
			k++
		}
		return len(js)
	}
	k := i // a number, true, false or null
	for k < len(js) && js[k] != ',' && js[k] != '}' && js[k] != ']' && !isJSONSpace(js[k]) {
		k++
	}
	return k
}

// skipJSONSpace returns the index of the first non-space byte from i on.
func skipJSONSpace(js []byte, i int) int {
	for i < len(js) && isJSONSpace(js[i]) {
		i++
	}
	return i
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
