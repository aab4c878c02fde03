package integration

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/proxydebug/debugmode/acestream"
)

// StreamStarted is the body of POST /events/stream_started.
type StreamStarted struct {
	ContainerID string `json:"container_id"`
	Engine      struct {
		Host string `json:"host"`
		Port int    `json:"port"`
	} `json:"engine"`
	Stream struct {
		KeyType string `json:"key_type"`
		Key     string `json:"key"`
	} `json:"stream"`
	Session struct {
		PlaybackSessionID string `json:"playback_session_id"`
		StatURL           string `json:"stat_url"`
		CommandURL        string `json:"command_url"`
		IsLive            int    `json:"is_live"` // 1 for a live stream, as the engine says it and the orchestrator takes it
	} `json:"session"`
	Labels map[string]string `json:"labels"`
}

// StreamID is the proxy's stream ID: the stream_id label, or
// <key>|<playback session id>.
func (e *StreamStarted) StreamID() string {
	if id := e.Labels["stream_id"]; id != "" {
		return id
	}
	return e.Stream.Key + "|" + e.Session.PlaybackSessionID
}

// StreamEnded is the body of POST /events/stream_ended.
type StreamEnded struct {
	ContainerID string `json:"container_id"`
	StreamID    string `json:"stream_id"`
	Reason      string `json:"reason"`
}

// ReportStreamStarted tells the orchestrator a stream started, and logs it
// to "streams" (a failure also to "errors").
func (c *Client) ReportStreamStarted(ctx context.Context, ev StreamStarted) error {
	start := time.Now()
	err := c.do(ctx, http.MethodPost, "/events/stream_started", ev, nil, true)
	log := c.log()
	log.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_started", StreamID: ev.StreamID(), EngineID: ev.ContainerID, Duration: time.Since(start)},
		slog.String("ace_id", ev.Stream.Key), slog.Bool("reported", err == nil))
	if err != nil {
		log.LogError(ctx, "orchestrator_client", "report_stream_started", err,
			slog.String("stream_id", ev.StreamID()), slog.String("engine_id", ev.ContainerID))
	}
	return err
}

// ReportStreamEnded tells the orchestrator a stream ended, and logs it to
// "streams" (a failure also to "errors"). streamDuration is how long the
// stream ran.
func (c *Client) ReportStreamEnded(ctx context.Context, ev StreamEnded, streamDuration time.Duration) error {
	start := time.Now()
	c.cache.release(ev.ContainerID) // its room is free at once for the next selection
	err := c.do(ctx, http.MethodPost, "/events/stream_ended", ev, nil, true)
	log := c.log()
	log.LogStreamEvent(ctx, acestream.StreamEvent{Type: "stream_ended", StreamID: ev.StreamID, EngineID: ev.ContainerID, Duration: streamDuration},
		slog.String("reason", ev.Reason), slog.Duration("report", time.Since(start)), slog.Bool("reported", err == nil))
	if err != nil {
		log.LogError(ctx, "orchestrator_client", "report_stream_ended", err,
			slog.String("stream_id", ev.StreamID), slog.String("engine_id", ev.ContainerID))
	}
	return err
}
