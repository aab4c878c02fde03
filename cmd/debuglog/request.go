package main

import (
	"io"
)

func cmdRequest(args []string, out io.Writer, warn *warner) error {
	fs := newFlags("request", "usage: debuglog request ID DIR...\n")
	_, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	return usageError(fs, "not yet")
}
