//go:build !linux

package debuglog

import "os/exec"

// dieWithTests: only Linux can tie a child's life to its parent's
// (Pdeathsig); elsewhere TestMain's cleanup stops the server.
func dieWithTests(*exec.Cmd) {}
