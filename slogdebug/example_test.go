package slogdebug_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/proxydebug/debugmode/slogdebug"
	"github.com/proxydebug/debugmode/stress"
)

// printFile prints chosen fields of every line of a category's file.
func printFile(path string, keys ...string) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		json.Unmarshal(sc.Bytes(), &line)
		for i, k := range keys {
			if i > 0 {
				fmt.Print(" ")
			}
			fmt.Print(k, "=", line[k])
		}
		fmt.Println()
	}
}

// At start-up a proxy reads its configuration from the environment
// (DEBUG_MODE, DEBUG_LOG_DIR, ...) and swaps slog's default handler for the
// fan-out. Its existing slog calls keep working; those with a category land
// in the category files.
func Example() {
	dir, _ := os.MkdirTemp("", "debug_logs")
	defer os.RemoveAll(dir)
	os.Setenv("DEBUG_MODE", "true")
	os.Setenv("DEBUG_LOG_DIR", dir)
	defer os.Unsetenv("DEBUG_MODE")
	defer os.Unsetenv("DEBUG_LOG_DIR")

	cfg, err := slogdebug.ConfigFromEnv()
	if err != nil {
		fmt.Println(err) // names the variable and the accepted values
		return
	}
	cfg.Console = slog.NewTextHandler(io.Discard, nil) // keep the example's output quiet
	logger, err := slogdebug.Init(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer slogdebug.Close()

	slog.With("category", "provisioning").Debug("provision", "operation", "provision_success", "duration", 2*time.Second)
	slogdebug.Default().LogRequest(context.Background(), "GET", "/ace/getstream", 150*time.Millisecond, 200, "abc123")

	slogdebug.Flush()
	printFile(logger.Path("provisioning"), "category", "operation", "duration_ms")
	printFile(logger.Path("requests"), "category", "method", "status_code", "ace_id")
	// Output:
	// category=provisioning operation=provision_success duration_ms=2000
	// category=requests method=GET status_code=200 ace_id=abc123
}

// The typed helpers write the same field names as the previous Go port.
func ExampleLogger_LogProvisioning() {
	dir, _ := os.MkdirTemp("", "debug_logs")
	defer os.RemoveAll(dir)
	logger, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir}, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	logger.LogProvisioning(ctx, "provision_attempt_failed", 1500*time.Millisecond, false, fmt.Errorf("circuit breaker is open"), 1)
	logger.LogProvisioning(ctx, "provision_success", 3*time.Second, true, nil, 2)
	logger.Close()

	printFile(logger.Path("provisioning"), "operation", "success", "error", "retry_count", "duration_ms")
	// Output:
	// operation=provision_attempt_failed success=false error=circuit breaker is open retry_count=1 duration_ms=1500
	// operation=provision_success success=true error=<nil> retry_count=2 duration_ms=3000
}

// A service that already logs JSON to stdout keeps its handler: the
// category files are added beside it.
func ExampleConfig_console() {
	dir, _ := os.MkdirTemp("", "debug_logs")
	defer os.RemoveAll(dir)
	console := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "dir" {
				return slog.Attr{} // stable example output
			}
			return a
		},
	})
	logger, err := slogdebug.New(slogdebug.Config{Enabled: true, Dir: dir, SessionID: "example", Console: console}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	logger.With("category", "streams").Info("stream started", "stream_id", "abc|1")
	logger.Close()
	printFile(logger.Path("streams"), "msg", "stream_id")
	// Output:
	// {"level":"INFO","msg":"debug mode on","session":"example"}
	// {"level":"INFO","msg":"stream started","category":"streams","stream_id":"abc|1"}
	// msg=stream started stream_id=abc|1
}

// OnStress hears every stress event, for alerting without tailing the
// files: here a slow start (the first byte after 6s of an hour-long
// stream) and the 11th in a minute. It runs on a goroutine of its own;
// Flush waits for it.
func ExampleConfig_onStress() {
	dir, _ := os.MkdirTemp("", "debug_logs")
	defer os.RemoveAll(dir)
	cfg := slogdebug.Config{Enabled: true, Dir: dir, OnStress: func(e stress.Event) {
		fmt.Printf("%s (%s): %s\n", e.Type, e.Level, e.Description)
	}}
	logger, err := slogdebug.New(cfg, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer logger.Close()
	ctx := context.Background()
	logger.LogRequest(ctx, "GET", "/ace/getstream", time.Hour, 200, "abc", slog.Duration("ttfb", 20*time.Millisecond)) // started at once
	for range 11 {
		logger.LogRequest(ctx, "GET", "/ace/getstream", time.Hour, 200, "abc", slog.Duration("ttfb", 6*time.Second))
	}
	logger.Flush()
	// Output:
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// slow_request (WARN): Request waited 6.00s for its first byte (threshold 5s), then lasted 3600.00s in all
	// high_slow_request_rate (WARN): 11 slow starts (first byte after more than 5s) in the last 1m0s
}

// With debug mode off nothing is opened and the helpers cost one Enabled
// check.
func ExampleNew_off() {
	logger, _ := slogdebug.New(slogdebug.Config{}, io.Discard)
	logger.LogRequest(context.Background(), "GET", "/ace/getstream", time.Second, 200, "abc")
	fmt.Println(logger.DebugMode(), logger.SessionID() == "", logger.Close())
	// Output: false true <nil>
}

// Debug mode switched on and off while the program runs: the session goes
// on, and loggers made before the switch follow it.
func ExampleLogger_SetDebug() {
	dir, _ := os.MkdirTemp("", "debug_logs")
	defer os.RemoveAll(dir)
	logger, _ := slogdebug.New(slogdebug.Config{Dir: dir}, io.Discard)
	defer logger.Close()
	requests := logger.With("category", "requests")

	requests.Debug("while off")
	logger.SetDebug(true) // or PUT {"debug_mode":true} to logger.AdminHandler(), or SIGUSR1 with ToggleOnSignal
	requests.Debug("while on")
	logger.SetDebug(false)
	requests.Debug("off again")
	logger.Close()

	printFile(logger.Path("requests"), "msg")
	printFile(logger.Path("session"), "event")
	// Output:
	// msg=while on
	// event=session_start
	// event=debug_disabled
	// event=session_end
}
