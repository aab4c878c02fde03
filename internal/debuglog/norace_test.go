//go:build !race

package debuglog

const raceEnabled = false
