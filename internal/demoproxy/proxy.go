package demoproxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/proxydebug/debugmode/integration"
	"github.com/proxydebug/debugmode/reqid"
	"github.com/proxydebug/debugmode/slogdebug"
)

// Proxy serves GET /ace/getstream?id=<content id> (or ?infohash=<hash>,
// exactly one): it selects an engine (provisioning one when there is none),
// reports the stream to the orchestrator, copies the engine's stream to the
// client, and reports its end. Wrap it in integration.Middleware.
type Proxy struct {
	Orch *integration.Client
	Log  *slogdebug.Logger
	// EngineClient fetches streams from engines; nil means a plain client.
	EngineClient *http.Client
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ace/status" {
		fmt.Fprintln(w, "ok")
		return
	}
	if r.URL.Path != "/ace/getstream" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	id, infohash := q.Get("id"), q.Get("infohash")
	if (id == "") == (infohash == "") {
		http.Error(w, "want exactly one of id or infohash", http.StatusBadRequest)
		return
	}
	key, keyType := id, "content_id"
	if infohash != "" {
		key, keyType = infohash, "infohash"
	}
	ctx := r.Context()

	choice, err := p.Orch.SelectBestEngine(ctx)
	if err != nil {
		integration.WriteProvisionError(w, err)
		return
	}

	// Ask the engine for the stream, passing the client's parameters on.
	engineURL := url.URL{Scheme: "http", Host: choice.Host + ":" + strconv.Itoa(choice.Port), Path: "/ace/getstream", RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, engineURL.String(), nil)
	if err != nil { // the engine's address is the orchestrator's: the client can do nothing about it
		p.Log.LogError(ctx, "proxy", "engine_request", err, slog.String("container_id", choice.ContainerID))
		http.Error(w, "engine unreachable", http.StatusBadGateway)
		return
	}
	client := p.EngineClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		p.Log.LogError(ctx, "proxy", "engine_request", err, slog.String("container_id", choice.ContainerID))
		http.Error(w, "engine unreachable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()

	playback := "s1"
	if ids := reqid.From(ctx); ids != nil {
		playback = ids.SpanID
	}
	started := integration.StreamStarted{ContainerID: choice.ContainerID, Labels: map[string]string{}}
	started.Engine.Host, started.Engine.Port = choice.Host, choice.Port
	started.Stream.KeyType, started.Stream.Key = keyType, key
	started.Session.PlaybackSessionID, started.Session.IsLive = playback, 1
	streamID := started.StreamID()
	started.Labels["stream_id"] = streamID
	_ = p.Orch.ReportStreamStarted(ctx, started)

	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK)
	res := integration.CopyStream(ctx, p.Log, w, resp.Body, integration.Stream{ID: streamID, AceID: key,
		Attrs: []slog.Attr{slog.String("container_id", choice.ContainerID)}}) // the engine_selection line has its host and port

	// Report the end even when the client's context is gone.
	endCtx, cancel := contextWithoutCancel(ctx, 5*time.Second)
	defer cancel()
	_ = p.Orch.ReportStreamEnded(endCtx, integration.StreamEnded{ContainerID: choice.ContainerID, StreamID: streamID, Reason: res.Reason}, res.Duration)
}
