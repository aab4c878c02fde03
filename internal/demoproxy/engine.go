package demoproxy

import (
	"net/http"
	"strconv"
	"time"
)

// Engine is a fake AceStream engine: GET /ace/getstream streams size bytes
// (parameter size, default 256 KiB) of MPEG-TS-sized packets in chunks
// (parameter chunk, default 32 KiB), pausing delay (a Go duration, default
// none) between chunks, as a live stream trickles. With wait it answers
// 200 at once but sends its first byte only after that long (prebuffering:
// a slow start); with stall it stops for that long halfway through.
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
	wait, _ := time.ParseDuration(q.Get("wait"))
	stall, _ := time.ParseDuration(q.Get("stall"))
	w.Header().Set("Content-Type", "video/mp2t")
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i % 188) // sync-byte-ish pattern
		if i%188 == 0 {
			buf[i] = 0x47
		}
	}
	rc := http.NewResponseController(w)
	pause := func(d time.Duration) bool {
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		}
	}
	if wait > 0 {
		w.WriteHeader(http.StatusOK)
		_ = rc.Flush() // the status at once, the first byte later
		if !pause(wait) {
			return
		}
	}
	for sent := 0; sent < size; {
		n := min(chunk, size-sent)
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
		_ = rc.Flush()
		if stall > 0 && sent < size/2 && sent+n >= size/2 && !pause(stall) {
			return
		}
		sent += n
		if delay > 0 && sent < size && !pause(delay) {
			return
		}
	}
}

func intParam(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n
	}
	return def
}
