package stress_test

import (
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
func ExampleOptions_rules() {
	emit := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	engineTimeout := func(category string, r slog.Record) (stress.Event, bool) {
		var reason, stream slog.Value
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "reason":
				reason = a.Value
			case "stream_id":
				stream = a.Value
			}
			return true
		})
		if category != "disconnects" || reason.String() != "timeout" {
			return stress.Event{}, false
		}
		return stress.Event{Type: "engine_timeout", Level: slog.LevelError,
			Description: "engine stopped sending", Attrs: []slog.Attr{slog.Any("stream_id", stream)}}, true
	}
	detector, _ := stress.New(stress.Options{Files: emit, Rules: []func(string, slog.Record) (stress.Event, bool){engineTimeout}})
	slog.New(detector).Debug("disconnect", "category", "disconnects", "stream_id", "abc|1", "reason", "timeout")
	// Output:
	// level=ERROR msg=engine_timeout category=stress event_type=engine_timeout severity=critical description="engine stopped sending" stream_id=abc|1
}
