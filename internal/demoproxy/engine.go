package demoproxy

import (
	"net/http"
	"strconv"
	"time"
)

// Engine is a fake AceStream engine: GET /ace/getstream streams size bytes
// (parameter size, default 256 KiB) of MPEG-TS-sized packets in chunks
// (parameter chunk, default 32 KiB), pausing delay (a Go duration, default
// none) between chunks, as a live stream trickles.
type Engine struct{}

func (Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/ace/getstream" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	size := intParam(q.Get("size"), 256<<10)
	chunk := max(intParam(q.Get("chunk"), 32<<10), 188)
	delay, _ := time.ParseDuration(q.Get("delay"))
	w.Header().Set("Content-Type", "video/mp2t")
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i % 188) // sync-byte-ish pattern
		if i%188 == 0 {
			buf[i] = 0x47
		}
	}
	rc := http.NewResponseController(w)
	for sent := 0; sent < size; {
		n := min(chunk, size-sent)
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
		_ = rc.Flush()
		sent += n
		if delay > 0 && sent < size {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
	}
}

func intParam(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n
	}
	return def
}
