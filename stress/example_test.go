package stress_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/proxydebug/debugmode/stress"
)

// A stress handler observes records and emits events to another handler:
// here a JSON handler on stdout (in debugmode, the console and the files).
func Example() {
	emit := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable example output
			}
			return a
		},
	})
	detector, err := stress.New(stress.Options{Files: emit})
	if err != nil {
		panic(err)
	}
	requests := slog.New(detector).With("category", "requests")
	requests.Debug("request", "path", "/ace/getstream", "duration", 1200*time.Millisecond) // fine
	requests.Debug("request", "path", "/ace/getstream", "duration", 7*time.Second)         // slow
	// Output:
	// {"level":"WARN","msg":"slow_request","category":"stress","event_type":"slow_request","severity":"warning","description":"Request took 7.00s (threshold 5s)","path":"/ace/getstream","duration":7000000000,"threshold":5000000000}
}

// A rule of your own: any disconnect with reason "timeout" is critical.
func ExampleRule() {
	emit := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	engineTimeout := func(o *stress.Observation) (stress.Event, bool) {
		if reason, ok := o.Attr("reason"); o.Category != "disconnects" || !ok || reason.String() != "timeout" {
			return stress.Event{}, false
		}
		stream, _ := o.Attr("stream_id")
		return stress.Event{Type: "engine_timeout", Severity: stress.SeverityCritical,
			Description: "engine stopped sending", Attrs: []slog.Attr{slog.Any("stream_id", stream)}}, true
	}
	detector, _ := stress.New(stress.Options{Files: emit, Rules: []stress.Rule{engineTimeout}})
	slog.New(detector).Debug("disconnect", "category", "disconnects", "stream_id", "abc|1", "reason", "timeout")
	_ = context.Background()
	// Output:
	// level=ERROR msg=engine_timeout category=stress event_type=engine_timeout severity=critical description="engine stopped sending" stream_id=abc|1
}
