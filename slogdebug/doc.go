// Package slogdebug is the debug mode facade: a slog handler that fans
// records out to a console (tint, or your own handler) and, with debug mode
// on, to per-category JSONL files (package handler). Start-up:
//
//	cfg, err := slogdebug.ConfigFromEnv() // DEBUG_MODE, DEBUG_LOG_DIR, ...
//	if err != nil {
//		return err
//	}
//	logger, err := slogdebug.Init(cfg) // also slog.SetDefault
//	if err != nil {
//		return err
//	}
//	defer logger.CloseOnSignal(syscall.SIGTERM, os.Interrupt)()
//
// A record with a "category" attribute at Debug, or a typed helper such as
// LogProvisioning, lands in <session>_<category>.jsonl (through slog's
// default, bind the category with slog.With to log it below Info and the
// console's level: see Init). With debug mode off
// no file is opened, no goroutine runs (but Config.ExecutionTrace's), and a
// typed helper costs one comparison.
package slogdebug
