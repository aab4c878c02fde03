// Command demo opens a debug-mode session, writes records to every
// category through both the typed helpers and plain slog, closes the
// session, and prints the files it wrote with their line counts.
//
// It honours the environment of the library (DEBUG_LOG_DIR, DEBUG_QUEUE_BYTES,
// ...); debug mode is always on here, since showing it is the point.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/proxydebug/debugmode/slogdebug"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	cfg, err := slogdebug.ConfigFromEnv()
	if err != nil {
		return err
	}
	cfg.Enabled = true
	logger, err := slogdebug.Init(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	slog.Info("demo: debug session started", "dir", logger.Dir(), "session", logger.SessionID())

	boom := errors.New("provisioning blocked: circuit breaker is open")
	for i := range 50 {
		aceID := fmt.Sprintf("%040x", i)
		d := time.Duration(20+i*13) * time.Millisecond
		logger.LogEngineSelection(ctx, "select_best_engine", "127.0.0.1", 6878+i%3, fmt.Sprintf("engine-%d", i%3), d/4, nil)
		logger.LogStreamEvent(ctx, "stream_started", aceID+"|s1", fmt.Sprintf("engine-%d", i%3), d/8)
		logger.LogRequest(ctx, "GET", "/ace/getstream", d, 200, aceID)
		logger.LogDisconnect(ctx, aceID+"|s1", aceID, "completed", nil, int64(i)<<16, d)
	}
	logger.LogProvisioning(ctx, "provision_attempt_failed", 800*time.Millisecond, false, boom, 1)
	logger.LogProvisioning(ctx, "provision_success", 2*time.Second, true, nil, 2)
	logger.LogOrchestratorHealth(ctx, slogdebug.OrchestratorHealth{
		Status: "degraded", BlockedReason: "Circuit breaker is open", BlockedReasonCode: "circuit_breaker",
		RecoveryETASeconds: 60, VPNConnected: true, EngineCount: 3, StreamCount: 2,
		Capacity: slogdebug.Capacity{Total: 10, Used: 3, Available: 7},
	})
	logger.LogError(ctx, "orchestrator_client", "provision", boom)
	logger.LogStressEvent(ctx, "provisioning_circuit_breaker", slogdebug.SeverityCritical, "Provisioning blocked by circuit breaker", slog.Int("attempt", 1))
	// Plain slog with a category lands in the same kind of file.
	slog.With("category", "provisioning").Debug("plain slog record", "operation", "warmup")

	if err := slogdebug.Close(); err != nil {
		return err
	}
	return report(out, logger)
}

// report prints each file of the session with its line count, checking
// that every line decodes.
func report(out io.Writer, logger *slogdebug.Logger) error {
	paths, err := filepath.Glob(filepath.Join(logger.Dir(), logger.SessionID()+"_*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	fmt.Fprintf(out, "\nsession %s in %s\n", logger.SessionID(), logger.Dir())
	total := 0
	for _, p := range paths {
		n, err := countLines(p)
		if err != nil {
			return err
		}
		total += n
		fmt.Fprintf(out, "  %-48s %6d lines\n", filepath.Base(p), n)
	}
	st := logger.Stats()
	fmt.Fprintf(out, "  %d lines in %d files; %d records dropped, %d failed\n", total, len(paths), st.Dropped, st.Failed)
	return nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			return n, fmt.Errorf("%s:%d: not valid JSON", path, n+1)
		}
		n++
	}
	return n, sc.Err()
}
