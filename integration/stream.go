package integration

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/proxydebug/debugmode/acestream"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Disconnect reasons, as the proxy names them, and who ended a stream.
const (
	reasonCompleted          = "completed"
	reasonClientDisconnected = "client_disconnected"
	reasonTimeout            = "timeout"
	reasonNetworkError       = "network_error"
	reasonEOF                = "eof"
	reasonClosedPipe         = "closed_pipe"

	sideEngine  = "engine"  // the engine's stream ended or failed
	sideClient  = "client"  // the client went away, or writing to it failed
	sideNetwork = "network" // a deadline or the network, neither side's doing
)

// classify names why a stream ended, and in words. EPIPE, ECONNRESET and
// ECONNABORTED on write (which one is timing) all mean the client hung up.
func classify(err error) (reason, detail string) {
	var ne net.Error
	switch {
	case err == nil || errors.Is(err, io.EOF):
		return reasonCompleted, "the stream ended normally"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return reasonEOF, "the stream ended before its end (unexpected EOF)"
	case errors.Is(err, syscall.EPIPE):
		return reasonClientDisconnected, "the client closed the connection (broken pipe)"
	case errors.Is(err, syscall.ECONNRESET):
		return reasonClientDisconnected, "the connection was reset by the peer"
	case errors.Is(err, syscall.ECONNABORTED):
		return reasonClientDisconnected, "the connection was aborted"
	case errors.Is(err, context.Canceled):
		return reasonClientDisconnected, "the client's request was canceled: it went away"
	case errors.Is(err, context.DeadlineExceeded):
		return reasonTimeout, "a deadline passed"
	case errors.Is(err, http.ErrHandlerTimeout):
		return reasonTimeout, "the handler timed out"
	case errors.Is(err, syscall.ETIMEDOUT) || (errors.As(err, &ne) && ne.Timeout()):
		return reasonTimeout, "a network operation timed out"
	case errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed):
		return reasonClosedPipe, "a connection was closed on the proxy's side"
	}
	msg := strings.ToLower(err.Error()) // an error that lost its chain (%v) is read by its words
	for _, t := range textErrors {
		if strings.Contains(msg, t.text) {
			return classify(t.err)
		}
	}
	return reasonNetworkError, "a network error"
}

// textErrors are the errors known by their text, in the order tried.
var textErrors = [...]struct {
	text string
	err  error
}{
	{"broken pipe", syscall.EPIPE}, {"connection reset", syscall.ECONNRESET}, {"connection aborted", syscall.ECONNABORTED},
	{"unexpected eof", io.ErrUnexpectedEOF}, {"use of closed network connection", net.ErrClosed}, {"closed pipe", io.ErrClosedPipe},
	{"deadline exceeded", context.DeadlineExceeded}, {"timeout", syscall.ETIMEDOUT}, {"timed out", syscall.ETIMEDOUT},
}

// Stream names a stream for the line that says how it ended.
type Stream struct {
	ID    string      // stream_id
	AceID string      // ace_id: the content
	Attrs []slog.Attr // written too: engine_host, container_id, ...
}

// StreamResult is how a stream ended.
type StreamResult struct {
	Stream
	Bytes    int64         // bytes_copied: to the client
	Duration time.Duration // duration_ms: of the stream
	Reason   string        // reason: completed, client_disconnected, timeout, network_error, eof, closed_pipe, or one of your own
	Detail   string        // detailed_reason: the reason in words
	Side     string        // side: engine, client or network (who ended it); left out when ""
	Err      error         // error: what ended it; nil when it completed
	MaxStall time.Duration // max_stall_ms: the longest time without a byte once the first came (CopyStream measures it); left out when 0
}

// LogStreamEnd logs how a stream ended, once: inside Middleware on the
// request's "requests" line when the request ends, else as a "disconnects"
// line. Without a Reason, Err is classified by its chain or text:
// completed, eof, client_disconnected, timeout, closed_pipe or
// network_error.
func LogStreamEnd(ctx context.Context, logger *slogdebug.Logger, res StreamResult) {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	logger = loggerOr(logger)
	if ex == nil && !logger.Enabled(ctx, slog.LevelDebug) {
		return // nothing would be written: nothing to classify
	}
	reason, detail := classify(res.Err)
	if res.Reason == "" {
		res.Reason, res.Detail = reason, detail
	}
	res.Detail = cmp.Or(res.Detail, detail)
	if ex != nil && ex.hold(res) {
		return
	}
	logDisconnect(ctx, logger, res)
}

func logDisconnect(ctx context.Context, logger *slogdebug.Logger, res StreamResult) {
	if !logger.Enabled(ctx, slog.LevelDebug) {
		return // not written: nothing to gather
	}
	attrs := []slog.Attr{slog.String("detailed_reason", res.Detail)}
	if res.Side != "" { // unknown to a copier of the proxy's own: left out
		attrs = append(attrs, slog.String("side", res.Side))
	}
	if res.MaxStall > 0 {
		attrs = append(attrs, slog.Duration("max_stall", res.MaxStall))
	}
	logger.LogDisconnect(ctx, acestream.Disconnect{StreamID: res.ID, AceID: res.AceID, Reason: res.Reason, Err: res.Err,
		BytesCopied: res.Bytes, Duration: res.Duration}, append(attrs, res.Attrs...)...)
}

// appendEnd appends how the stream ended, for the requests line: stream_id,
// reason, side, max_stall_ms, and for an end that was no completion
// detailed_reason and stream_error (not "error": the request was answered);
// then its Attrs. The request's own fields (bytes, duration_ms, ace_id) say
// the rest.
func (res *StreamResult) appendEnd(attrs []slog.Attr) []slog.Attr {
	if res.ID != "" {
		attrs = append(attrs, slog.String("stream_id", res.ID))
	}
	attrs = append(attrs, slog.String("reason", res.Reason))
	if res.Side != "" {
		attrs = append(attrs, slog.String("side", res.Side))
	}
	if res.MaxStall > 0 {
		attrs = append(attrs, slog.Duration("max_stall", res.MaxStall))
	}
	if res.Reason != reasonCompleted && res.Detail != "" {
		attrs = append(attrs, slog.String("detailed_reason", res.Detail))
	}
	if res.Err != nil {
		attrs = append(attrs, slog.Any("stream_error", res.Err))
	}
	return append(attrs, res.Attrs...)
}

// exchange holds a request's first stream end and AddAttrs' attributes for
// the middleware's line, until finish; after that, LogStreamEnd writes its
// own line and AddAttrs does nothing.
type exchange struct {
	stream atomic.Pointer[StreamResult]
	mu     sync.Mutex
	attrs  []slog.Attr
	done   bool
}

type exchangeKey struct{}

var finished = new(StreamResult)

func (ex *exchange) hold(res StreamResult) bool { return ex.stream.CompareAndSwap(nil, &res) }

// add keeps a copy of attrs (the caller's slice is not kept) for the
// line, and reports whether it did: not once the line is written.
func (ex *exchange) add(attrs []slog.Attr) bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if !ex.done {
		ex.attrs = append(ex.attrs, attrs...)
	}
	return !ex.done
}

// finish takes the stream end and the attributes, for the line.
func (ex *exchange) finish() (*StreamResult, []slog.Attr) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.done = true
	return ex.stream.Swap(finished), ex.attrs
}

// CopyStream copies an engine's stream to the client, flushing each chunk so
// it plays as it arrives, then logs how it ended (LogStreamEnd) and returns
// it, with the longest stall (MaxStall, max_stall_ms). With stress
// detection on, a stall longer than DEBUG_STRESS_STALL (5s) is noticed
// while it lasts: a streams line stream_stalled (the stream_stalled event),
// then stream_resumed with the whole stall if bytes flow again. The wait
// for the first byte is no stall: the requests line's ttfb_ms has it.
func CopyStream(ctx context.Context, logger *slogdebug.Logger, w http.ResponseWriter, engine io.Reader, s Stream) StreamResult {
	clk := currentClock()
	start, rc, buf := clk.Now(), http.NewResponseController(w), make([]byte, 32<<10)
	res := StreamResult{Stream: s}
	var watch *stallWatch
	if log := loggerOr(logger); log.Enabled(ctx, slog.LevelDebug) {
		if th := stallThreshold(log); th > 0 {
			watch = newStallWatch(ctx, log, clk, th, s, start)
		}
	}
	var last time.Time // the last chunk's arrival; zero before the first
	for {
		if res.Err = ctx.Err(); res.Err != nil {
			res.Side = sideClient
			break
		}
		n, rerr := engine.Read(buf)
		if n > 0 {
			now := clk.Now()
			if !last.IsZero() {
				res.MaxStall = max(res.MaxStall, now.Sub(last))
			}
			last = now
			if watch != nil {
				watch.chunk(now)
				watch.inWrite.Store(true)
			}
			m, werr := w.Write(buf[:n])
			res.Bytes += int64(m)
			if werr == nil {
				if werr = rc.Flush(); errors.Is(werr, http.ErrNotSupported) {
					werr = nil
				}
			}
			if watch != nil {
				watch.inWrite.Store(false)
			}
			if werr != nil { // when the client left, it is why the write failed
				res.Err, res.Side = cmp.Or(ctx.Err(), werr), sideClient
				break
			}
		}
		if rerr != nil {
			res.Err, res.Side = rerr, sideEngine
			if errors.Is(rerr, io.EOF) {
				res.Err = nil
			} else if ctx.Err() != nil { // the engine's request was made with ctx: the client left
				res.Err, res.Side = ctx.Err(), sideClient
			}
			break
		}
	}
	end := clk.Now()
	watch.stop()
	if !last.IsZero() {
		res.MaxStall = max(res.MaxStall, end.Sub(last))
	}
	res.Duration = end.Sub(start)
	res.classify()
	if res.Side == sideEngine && res.Reason == reasonClientDisconnected {
		// A reset or abort while reading: the engine's connection, not the client's.
		res.Reason, res.Detail = reasonNetworkError, "reading the engine's stream: "+res.Detail
	}
	LogStreamEnd(ctx, logger, res)
	return res
}

// classify sets the reason and detail from Err; a timeout is the network's.
func (res *StreamResult) classify() {
	if res.Reason, res.Detail = classify(res.Err); res.Reason == reasonTimeout {
		res.Side = sideNetwork
	}
}
