package integration

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/proxydebug/debugmode/slogdebug"
)

// StreamResult is how a copied stream ended.
type StreamResult struct {
	Bytes    int64
	Duration time.Duration
	Reason   string // one of the Reason constants
	Err      error  // the error that ended it; nil when completed
}

// CopyStream copies an engine's stream to the client, flushing after every
// chunk so that it plays as it arrives, until the engine ends it, the
// client goes away or ctx is done. It logs the end to "disconnects" with
// its reason, bytes and duration, and returns it.
func CopyStream(ctx context.Context, log *slogdebug.Logger, w http.ResponseWriter, engine io.Reader, streamID, aceID string) StreamResult {
	start := time.Now()
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	var res StreamResult
	for {
		if err := ctx.Err(); err != nil {
			res.Err = err
			break
		}
		n, rerr := engine.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			res.Bytes += int64(m)
			if werr == nil {
				werr = rc.Flush()
				if errors.Is(werr, http.ErrNotSupported) {
					werr = nil
				}
			}
			if werr != nil {
				res.Err = werr
				if ctx.Err() != nil {
					res.Err = ctx.Err() // the client left: the write failed because of it
				}
				break
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				res.Err = rerr
			}
			break
		}
	}
	res.Duration = time.Since(start)
	res.Reason = Classify(res.Err)
	log.LogDisconnect(ctx, slogdebug.Disconnect{StreamID: streamID, AceID: aceID, Reason: res.Reason, Err: res.Err,
		BytesCopied: res.Bytes, Duration: res.Duration}, slog.String("side", side(res)))
	return res
}

// side says who ended a stream: the engine, the client, or neither.
func side(r StreamResult) string {
	switch r.Reason {
	case ReasonCompleted, ReasonEOF:
		return "engine"
	case ReasonClientDisconnected, ReasonClosedPipe:
		return "client"
	}
	return "network"
}
