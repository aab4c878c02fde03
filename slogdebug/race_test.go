//go:build race

package slogdebug

// raceEnabled: the race detector is on, and allocation counts mean nothing
// (it drops sync.Pool items at random).
const raceEnabled = true
