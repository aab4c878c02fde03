//go:build !linux && !darwin && !freebsd

package debuglog

import "os"

// specialFS: no special file systems are known here (Windows has none
// whose files block a reader).
func specialFS(*os.File) string { return "" }
