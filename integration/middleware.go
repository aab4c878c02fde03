package integration

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/proxydebug/debugmode/internal/safego"
	"github.com/proxydebug/debugmode/internal/stressevent"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Middleware gives each request its IDs (from X-Request-ID and traceparent, or
// new), echoes X-Request-ID so callers can correlate, and logs one "requests"
// line when it ends: with its trace_id and span_id (the other lines of the
// request carry its request_id), how its stream ended (LogStreamEnd's
// reason, side, max_stall_ms; or the client going away), and AddAttrs'
// attributes. With DEBUG_GOROUTINES it runs each request under the profiler
// labels request_id and route, and a request still without its first byte
// at the slow threshold is caught in a goroutine snapshot while it waits.
// skipPaths (health probes) go straight to next. Flusher,
// Hijacker and ReaderFrom keep working; a panic is logged and re-raised. With
// debug mode off it only gives and echoes the IDs: a request that begins
// then writes no line.
//
// The line has duration_ms, how long the handler ran (for a stream, how
// long it played), and ttfb_ms, how long the client waited for the first
// byte of the body: from the request's start until the first Write (or
// ReadFrom) that passed a byte on returned; the status and headers alone
// are no first byte; a hijacked connection's is the hijack, and a response
// without a body has ttfb_ms = duration_ms. Stress detection's slow_request
// compares ttfb_ms, not duration_ms, with its threshold.
func Middleware(logger *slogdebug.Logger, skipPaths ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		var dflt followDefault // logger nil: slogdebug.Default(), resolved once per default
		clk := currentClock()
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slices.Contains(skipPaths, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			log, start := logger, clk.Now()
			if log == nil {
				log = dflt.get()
			}
			ids := reqid.FromHeaders(headerValue(r.Header, keyRequestID), headerValue(r.Header, keyTraceparent))
			w.Header()[keyRequestID] = []string{ids.RequestID} // Set, without canonicalizing the key each time
			clientCtx := r.Context()
			ctx := reqid.With(clientCtx, ids)
			if !log.Enabled(clientCtx, slog.LevelDebug) && !trace.IsEnabled() {
				next.ServeHTTP(w, r.WithContext(ctx)) // nothing would be written: nothing to watch
				return
			}
			ex := &exchange{}
			ctx = context.WithValue(ctx, exchangeKey{}, ex)
			rw, aceID := &responseWriter{ResponseWriter: w, clk: clk, start: start}, AceID(r)
			if trace.IsEnabled() {
				var task *trace.Task
				ctx, task = trace.NewTask(ctx, "request")
				trace.Log(ctx, "request_id", ids.RequestID)
				defer task.End() // after the deferred logging below
			}
			r = r.WithContext(ctx)
			defer func() {
				p, d := recover(), clk.Now().Sub(start)
				status := cmp.Or(rw.status, http.StatusOK) // what net/http sends for a handler that wrote nothing
				if p != nil && rw.status == 0 {
					status = http.StatusInternalServerError
				}
				stream, added := ex.finish()
				ttfb := d // no body: the client waited for all of it
				if rw.wrote {
					ttfb = rw.ttfb
				}
				// Without a stream reported, a client going away is one.
				if err := cmp.Or(rw.err, clientCtx.Err()); stream == nil && err != nil {
					stream = &StreamResult{Err: err, Side: sideClient}
					stream.classify()
				}
				var buf [16]slog.Attr // on the stack: LogRequest keeps none of them
				attrs := append(buf[:0], slog.Duration("ttfb", ttfb), slog.Int64("bytes", rw.bytes))
				if ids.TraceID != "" { // the request's trace, on its line only: the others join it by request_id
					attrs = append(attrs, slog.String("trace_id", ids.TraceID), slog.String("span_id", ids.SpanID))
				}
				if stream != nil {
					attrs = stream.appendEnd(attrs)
				}
				if p != nil {
					attrs = append(attrs, slog.Any("panic", p))
				}
				log.LogRequest(ctx, r.Method, r.URL.Path, d, status, aceID, lastOfEachKey(append(attrs, added...))...)
				if p != nil {
					panic(p)
				}
			}()
			if snaps, watch := goroutineWatch(log); watch > 0 {
				// A request still without its first byte at the slow
				// threshold is caught in a goroutine snapshot while it
				// waits, its goroutines labelled with its ID.
				t := clk.AfterFunc(watch, func() {
					if err := safego.Call(func() {
						if !rw.first.Load() {
							if name := snaps.GoroutineSnapshot(stressevent.SlowRequest); name != "" {
								ex.add([]slog.Attr{slog.String(stressevent.GoroutinesKey, name)})
							}
						}
					}); err != nil {
						log.LogError(ctx, "integration", "slow_start_watch", err)
					}
				})
				defer t.Stop()
				pprof.Do(ctx, pprof.Labels("request_id", ids.RequestID, "route", r.URL.Path), func(ctx context.Context) {
					next.ServeHTTP(rw, r.WithContext(ctx))
				})
				return
			}
			next.ServeHTTP(rw, r)
		})
	}
}

// lastOfEachKey keeps, of attributes with the same key (a stream's own and
// AddAttrs', say), the last one, in the first one's place.
func lastOfEachKey(attrs []slog.Attr) []slog.Attr {
	out := attrs[:0]
	for i, a := range attrs {
		dup := false
		for j := range out {
			if out[j].Key == a.Key {
				out[j], dup = a, true
				break
			}
		}
		if !dup {
			out = append(out, attrs[i])
		}
	}
	return out
}

// goroutineWatch is logger's goroutine snapshots and the slow threshold of
// a request's start, when DEBUG_GOROUTINES is on (else 0).
func goroutineWatch(logger *slogdebug.Logger) (stressevent.GoroutineSnapshots, time.Duration) {
	if g, ok := logger.Handler().(stressevent.GoroutineSnapshots); ok {
		if d := g.SlowStartWatch(); d > 0 {
			return g, d
		}
	}
	return nil, 0
}

// AddAttrs adds attrs to the "requests" line Middleware writes when the
// request of ctx ends (such as the engine chosen: slog.String("container_id",
// id)), after its own fields; it may be called from any goroutine until then.
// Outside Middleware, with debug mode off, or once the line is written, it
// does nothing, and allocates nothing.
func AddAttrs(ctx context.Context, attrs ...slog.Attr) {
	if ctx == nil || len(attrs) == 0 {
		return
	}
	addToRequest(ctx, attrs...)
}

// addToRequest is AddAttrs; it reports whether the attrs will be on the line.
func addToRequest(ctx context.Context, attrs ...slog.Attr) bool {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex != nil && ex.add(attrs)
}

// headerValue is h.Get(key) for a canonical key: Get would canonicalize the
// key at each call (an allocation for reqid's spellings).
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// AceID returns the content a request asks for: its id, or its infohash.
func AceID(r *http.Request) string {
	raw := r.URL.RawQuery
	// Escapes, what ParseQuery refuses, or a query long enough to pass its
	// limit on the number of parameters (10,000 by default, GODEBUG
	// urlmaxqueryparams: past it, no parameter at all): its answer.
	if len(raw) >= 10000 || strings.ContainsAny(raw, "%+;") {
		q := r.URL.Query()
		return cmp.Or(q.Get("id"), q.Get("infohash"))
	}
	// As ParseQuery then Get (the first value of each), without its map.
	return cmp.Or(firstValue(raw, "id"), firstValue(raw, "infohash"))
}

// firstValue is the first value of key in a query without escapes.
func firstValue(query, key string) string {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if k, v, _ := strings.Cut(pair, "="); k == key {
			return v
		}
	}
	return ""
}

// responseWriter records the status, the bytes, the first write error and
// when the first byte of the body went.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
	clk    clock
	start  time.Time     // the request's
	ttfb   time.Duration // from start to the first byte of the body, once wrote
	wrote  bool
	first  atomic.Bool // wrote, for the slow-start watch's goroutine
}

func (w *responseWriter) WriteHeader(code int) {
	// 1xx headers may come before the final status (101 is final).
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.status = cmp.Or(w.status, http.StatusOK)
	n, err := w.ResponseWriter.Write(p)
	if n > 0 && !w.wrote {
		w.firstByte()
	}
	w.bytes, w.err = w.bytes+int64(n), cmp.Or(w.err, err)
	return n, err
}

func (w *responseWriter) firstByte() {
	w.wrote, w.ttfb = true, w.clk.Now().Sub(w.start)
	w.first.Store(true)
}

// firstChunks holds ReadFrom's buffers for the first bytes.
var firstChunks = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// ReadFrom keeps the underlying writer's sendfile/splice path, but for the
// first bytes: read and written here, so that their time is known.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.status = cmp.Or(w.status, http.StatusOK)
	var first int64
	if !w.wrote {
		n, done, err := w.readFirst(src)
		if done {
			return n, err
		}
		first = n
	}
	n, err := io.Copy(w.ResponseWriter, src) // its ReadFrom, when it has one
	w.bytes += n
	// The error may be src's; only the client's own signals count as its.
	if err != nil && w.err == nil {
		if c, _ := classify(err); c == reasonClosedPipe || c == reasonClientDisconnected {
			w.err = err
		}
	}
	return first + n, err
}

// readFirst copies src until a read returns bytes, through Write; done when
// src ended (or failed) or the write failed, with io.Copy's result.
func (w *responseWriter) readFirst(src io.Reader) (n int64, done bool, err error) {
	bp := firstChunks.Get().(*[]byte)
	defer firstChunks.Put(bp)
	for {
		k, rerr := src.Read(*bp)
		if k > 0 {
			m, werr := w.Write((*bp)[:k])
			n += int64(m)
			if werr != nil {
				return n, true, werr
			}
		}
		switch {
		case rerr == io.EOF:
			return n, true, nil
		case rerr != nil:
			return n, true, rerr // src's: not the client's error
		case k > 0:
			return n, false, nil
		}
	}
}

// Flush sends buffered data to the client (http.Flusher).
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError flushes and reports a failure, for http.ResponseController.
func (w *responseWriter) FlushError() error {
	w.status = cmp.Or(w.status, http.StatusOK)
	err := http.NewResponseController(w.ResponseWriter).Flush()
	if err != nil && w.err == nil && !errors.Is(err, http.ErrNotSupported) {
		w.err = err
	}
	return err
}

// Hijack hands the connection over (http.Hijacker).
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	if err == nil && !w.wrote { // what follows is not seen here
		w.firstByte()
	}
	return conn, rw, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
