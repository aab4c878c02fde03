package debuglog

import (
	"os/exec"
	"syscall"
)

// dieWithTests makes the tests' server end with the test process, even
// when that ends without TestMain's cleanup (a panic, go test's timeout).
func dieWithTests(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
