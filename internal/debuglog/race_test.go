//go:build race

package debuglog

const raceEnabled = true
