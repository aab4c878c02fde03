package handler_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/proxydebug/debugmode/handler"
)

// Records with a category attribute land in <session>_<category>.jsonl.
func Example() {
	dir, _ := os.MkdirTemp("", "debug_logs")
	defer os.RemoveAll(dir)

	h, err := handler.New(handler.Options{Dir: dir, SessionID: "example"})
	if err != nil {
		panic(err)
	}
	logger := slog.New(h)
	provisioning := logger.With("category", "provisioning")
	provisioning.Debug("provision", "operation", "provision_success", "duration", 1250*time.Millisecond, "retry_count", 1)
	logger.Debug("not persisted: no category")
	if err := h.Close(); err != nil {
		panic(err)
	}

	f, _ := os.Open(h.Path("provisioning"))
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		json.Unmarshal(sc.Bytes(), &line)
		fmt.Println(line["session_id"], line["category"], line["msg"], line["operation"], line["duration_ms"], line["retry_count"])
	}
	fmt.Println(h.Stats().Categories["provisioning"].Written, "written")
	// Output:
	// example provisioning provision provision_success 1250 1
	// 1 written
}

// SanitizeCategory turns any value into a safe file-name component.
func ExampleSanitizeCategory() {
	fmt.Println(handler.SanitizeCategory("Engine Selection"))
	fmt.Println(handler.SanitizeCategory("../../etc/passwd"))
	fmt.Println(handler.SanitizeCategory("5xx"))
	// Output:
	// engine_selection
	// _etc_passwd
	// _5xx
}
