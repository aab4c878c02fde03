//go:build !debugmode_notint

package slogdebug

import "testing"

// readsTintConsole marks a test that reads tint's console lines: it runs
// unless built with debugmode_notint (console_notint_test.go).
func readsTintConsole(*testing.T) {}
