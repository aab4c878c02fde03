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
	"runtime/trace"
	"slices"
	"time"

	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Middleware gives each request its IDs (from X-Request-ID and traceparent, or
// new), echoes X-Request-ID so callers can correlate, and logs a "requests" line
// (and a "disconnects" one when the client left or a stream ended). skipPaths
// (health probes) go straight to next. Flusher, Hijacker and ReaderFrom keep working;
// a panic is logged and re-raised.
func Middleware(logger *slogdebug.Logger, skipPaths ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slices.Contains(skipPaths, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			logger, start := loggerOr(logger), time.Now()
			ids := reqid.FromHeaders(r.Header.Get(reqid.HeaderRequestID), r.Header.Get(reqid.HeaderTraceparent))
			clientCtx, ex := r.Context(), &exchange{}
			ctx := context.WithValue(reqid.With(clientCtx, ids), exchangeKey{}, ex)
			w.Header().Set(reqid.HeaderRequestID, ids.RequestID)
			rw, aceID := &responseWriter{ResponseWriter: w}, AceID(r)
			if trace.IsEnabled() {
				var task *trace.Task
				ctx, task = trace.NewTask(ctx, "request")
				trace.Log(ctx, "request_id", ids.RequestID)
				defer task.End() // after the deferred logging below
			}
			r = r.WithContext(ctx)
			defer func() {
				p, d := recover(), time.Since(start)
				status := cmp.Or(rw.status, http.StatusOK) // what net/http sends for a handler that wrote nothing
				if p != nil && rw.status == 0 {
					status = http.StatusInternalServerError
				}
				stream := ex.finish()
				attrs := []slog.Attr{slog.Int64("bytes", rw.bytes)}
				if stream != nil && stream.ID != "" {
					attrs = append(attrs, slog.String("stream_id", stream.ID))
				}
				if p != nil {
					attrs = append(attrs, slog.Any("panic", p))
				}
				logger.LogRequest(ctx, r.Method, r.URL.Path, d, status, aceID, attrs...)
				// Without a stream reported, a client going away is one.
				if err := cmp.Or(rw.err, clientCtx.Err()); stream == nil && err != nil {
					stream = &StreamResult{Stream: Stream{AceID: aceID}, Bytes: rw.bytes, Duration: d, Err: err, Side: sideClient}
					stream.classify()
				}
				if stream != nil {
					logDisconnect(ctx, logger, *stream, slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status_code", status))
				}
				if p != nil {
					panic(p)
				}
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// AceID returns the content a request asks for: its id, or its infohash.
func AceID(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("id"); id != "" {
		return id
	}
	return q.Get("infohash")
}

// responseWriter records the status, the bytes and the first write error.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
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
	w.bytes, w.err = w.bytes+int64(n), cmp.Or(w.err, err)
	return n, err
}

// ReadFrom keeps the underlying writer's sendfile/splice path.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	w.status = cmp.Or(w.status, http.StatusOK)
	n, err := io.Copy(w.ResponseWriter, src) // its ReadFrom, when it has one
	w.bytes += n
	// The error may be src's; only the client's own signals count as its.
	if err != nil && w.err == nil {
		if c, _ := classify(err); c == reasonClosedPipe || c == reasonClientDisconnected {
			w.err = err
		}
	}
	return n, err
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
	return conn, rw, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
