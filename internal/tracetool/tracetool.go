// Package tracetool helps tests look at the runtime: it reads execution
// traces with `go tool trace -d=parsed` (no trace parser as a dependency),
// and waits until goroutines are parked (WaitParked).
package tracetool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// GoCommand returns the go command of the toolchain that built this
// program (whose trace reader reads its traces), or else the one on $PATH.
func GoCommand() (string, error) {
	//lint:ignore SA1019 the toolchain that built the test binary is the one whose trace format it writes
	if root := runtime.GOROOT(); root != "" {
		goCmd := filepath.Join(root, "bin", "go")
		if st, err := os.Stat(goCmd); err == nil && !st.IsDir() {
			return goCmd, nil
		}
	}
	if goCmd, err := exec.LookPath("go"); err == nil {
		return goCmd, nil
	}
	return "", errors.New("tracetool: no go command: neither $GOROOT/bin/go of the toolchain that built this program nor go on $PATH")
}

// Parsed returns the trace's events as `go tool trace -d=parsed` prints
// them; it fails if the trace is not whole.
func Parsed(path string) (string, error) {
	goCmd, err := GoCommand()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(goCmd, "tool", "trace", "-d=parsed", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("tracetool: go tool trace -d=parsed %s: %w: %s", path, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String(), nil
}
