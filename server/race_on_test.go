//go:build race

package server_test

// raceEnabled: the race detector slows everything by a factor of 5 to 20,
// so time bounds are widened under it.
const raceEnabled = true
