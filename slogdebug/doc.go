// Package slogdebug is the debug mode facade: a slog handler that fans
// records out to a console (tint, or a handler of your own) and, with debug
// mode on, to per-category JSONL files (package handler).
//
// A proxy adopts it with one call at start-up:
//
//	cfg, err := slogdebug.ConfigFromEnv() // DEBUG_MODE, DEBUG_LOG_DIR, ...
//	if err != nil {
//		log.Fatal(err) // e.g. DEBUG_MODE="maybe": want true/false
//	}
//	logger, err := slogdebug.Init(cfg) // also slog.SetDefault
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)() // Close on return and on these signals
//
// after which the program's slog calls keep their console output, and
//
//	slog.With("category", "provisioning").Debug("provision", "operation", "provision_success")
//	logger.LogProvisioning(ctx, "provision_success", d, true, nil, 0)
//
// both land in <session>_provisioning.jsonl. The typed helpers take the
// context first and extra attributes last (some take an event struct of
// package acestream). Debug-mode records are logged at Debug, below the
// console's Info; stress events log at Warn and Error and show on both.
// With debug mode off no file is opened, no goroutine runs (but for
// Config.ExecutionTrace's), and a typed helper costs one comparison.
package slogdebug
