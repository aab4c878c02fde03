package integration

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/proxydebug/debugmode/category"
	"github.com/proxydebug/debugmode/reqid"
)

// Disconnect reasons, as the proxy names them.
const (
	ReasonCompleted          = "completed"
	ReasonClientDisconnected = "client_disconnected"
	ReasonTimeout            = "timeout"
	ReasonNetworkError       = "network_error"
	ReasonEOF                = "eof"
	ReasonClosedPipe         = "closed_pipe"
)

// Middleware returns HTTP middleware, in the shape routers expect, that
// gives each request its IDs (from X-Request-ID and traceparent, or new
// ones), echoes X-Request-ID on the response, puts the IDs in the request's
// context (so every record logged with it carries them), and logs the
// request to "requests" when it ends: method, path, duration_ms,
// status_code, ace_id (from the id or infohash parameter) and bytes. A
// client that went away is also logged to "disconnects" with its reason.
//
// The ResponseWriter passed on keeps http.Flusher, http.Hijacker and
// io.ReaderFrom working and unwraps for http.ResponseController, so a
// streaming proxy behind it streams as before. A panic is logged (status
// 500 unless one was written) and re-raised for net/http to handle.
func Middleware(logger *slog.Logger) func(http.Handler) http.Handler {
	requests := logger.With(category.Key, category.Requests)
	disconnects := logger.With(category.Key, category.Disconnects)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ids := reqid.FromHeaders(r.Header.Get(reqid.HeaderRequestID), r.Header.Get(reqid.HeaderTraceparent))
			clientCtx := r.Context()
			ctx := reqid.With(clientCtx, ids)
			w.Header().Set(reqid.HeaderRequestID, ids.RequestID)
			rw := &responseWriter{ResponseWriter: w}
			aceID := AceID(r)
			r = r.WithContext(ctx)
			defer func() {
				p := recover()
				d := time.Since(start)
				status := rw.status
				if status == 0 {
					status = http.StatusOK // what net/http sends for a handler that wrote nothing
					if p != nil {
						status = http.StatusInternalServerError
					}
				}
				attrs := []slog.Attr{
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Duration("duration", d),
					slog.Int("status_code", status),
					slog.String("ace_id", aceID),
					slog.Int64("bytes", rw.bytes),
				}
				if p != nil {
					attrs = append(attrs, slog.Any("panic", p))
				}
				requests.LogAttrs(ctx, slog.LevelDebug, "request", attrs...)
				if reason, err := disconnectReason(clientCtx, rw.err); reason != "" {
					disconnects.LogAttrs(ctx, slog.LevelDebug, "disconnect",
						slog.String("ace_id", aceID),
						slog.String("reason", reason),
						slog.Any("error", err),
						slog.Int64("bytes_copied", rw.bytes),
						slog.Duration("duration", d),
						slog.String("path", r.URL.Path))
				}
				if p != nil {
					panic(p)
				}
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// AceID returns the content a proxy request asks for: its id parameter, or
// its infohash.
func AceID(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("id"); id != "" {
		return id
	}
	return q.Get("infohash")
}

// disconnectReason tells whether and why the client went away before the
// response was done: a failed write, or the request's context canceled by
// the server when the connection closed.
func disconnectReason(clientCtx context.Context, writeErr error) (string, error) {
	if writeErr != nil {
		return Classify(writeErr), writeErr
	}
	if err := clientCtx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return ReasonTimeout, err
		}
		return ReasonClientDisconnected, err
	}
	return "", nil
}

// Classify names the reason a stream ended from the error that ended it:
// nil or io.EOF is completed; an unexpected EOF eof; a client that hung up
// (EPIPE, ECONNRESET or ECONNABORTED on write, which one is a matter of
// timing, or its request's context canceled) client_disconnected; a
// deadline, a handler timeout or a network timeout timeout; a pipe or
// connection closed on this side (io.ErrClosedPipe, net.ErrClosed)
// closed_pipe; anything else network_error.
func Classify(err error) string {
	var ne net.Error
	switch {
	case err == nil || errors.Is(err, io.EOF):
		return ReasonCompleted
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ReasonEOF
	case errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, context.Canceled):
		return ReasonClientDisconnected
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, http.ErrHandlerTimeout) ||
		(errors.As(err, &ne) && ne.Timeout()):
		return ReasonTimeout
	case errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed):
		return ReasonClosedPipe
	}
	return ReasonNetworkError
}

// responseWriter records the status, the bytes written and the first write
// error, and passes everything else through.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
}

func (w *responseWriter) WriteHeader(code int) {
	// 1xx informational headers may come before the final status (101
	// Switching Protocols is final).
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// ReadFrom keeps the underlying writer's sendfile/splice path.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	w.bytes += n
	// The error may be src's; only the client's own signals count as its.
	if err != nil && w.err == nil {
		if c := Classify(err); c == ReasonClosedPipe || c == ReasonClientDisconnected {
			w.err = err
		}
	}
	return n, err
}

// writerOnly hides ReadFrom, so that io.Copy does not loop back into it.
type writerOnly struct{ io.Writer }

// Flush sends buffered data to the client (http.Flusher).
func (w *responseWriter) Flush() {
	_ = w.FlushError()
}

// FlushError flushes and reports a failure, for http.ResponseController.
func (w *responseWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	err := http.NewResponseController(w.ResponseWriter).Flush()
	if err != nil && w.err == nil && !errors.Is(err, http.ErrNotSupported) {
		w.err = err
	}
	return err
}

// Hijack hands the connection over (http.Hijacker), when the underlying
// writer can.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
