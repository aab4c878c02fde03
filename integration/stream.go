package integration

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/proxydebug/debugmode/slogdebug"
)

// CopyStream copies an engine's stream to the client, flushing after every
// chunk so that it plays as it arrives, until the engine ends it, the
// client goes away or ctx is done. It logs how it ended with LogStreamEnd
// (one disconnects line: its reason, in words too, which side ended it,
// bytes, duration; inside Middleware, with the request's method, path and
// status) through logger (nil: slogdebug.Default()), and returns it.
func CopyStream(ctx context.Context, logger *slogdebug.Logger, w http.ResponseWriter, engine io.Reader, s Stream) StreamResult {
	start := time.Now()
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	res := StreamResult{Stream: s}
	for {
		if err := ctx.Err(); err != nil {
			res.Err, res.Side = err, SideClient
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
				res.Err, res.Side = werr, SideClient
				if ctx.Err() != nil {
					res.Err = ctx.Err() // the client left: the write failed because of it
				}
				break
			}
		}
		if rerr != nil {
			res.Side = SideEngine
			if !errors.Is(rerr, io.EOF) {
				res.Err = rerr
				if ctx.Err() != nil {
					// The engine's request was made with ctx: the client left.
					res.Err, res.Side = ctx.Err(), SideClient
				}
			}
			break
		}
	}
	res.Duration = time.Since(start)
	res.Reason, res.Detail = classify(res.Err)
	switch {
	case res.Reason == ReasonTimeout:
		res.Side = SideNetwork
	case res.Side == SideEngine && res.Reason == ReasonClientDisconnected:
		// A reset or abort while reading: the engine's connection, not the client's.
		res.Reason, res.Detail = ReasonNetworkError, "reading the engine's stream: "+res.Detail
	}
	LogStreamEnd(ctx, logger, res)
	return res
}
