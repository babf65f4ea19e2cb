//go:build race

package server_test

// raceEnabled: the race detector is on. sync.Pool then drops what is put
// in it at random, so what a request allocates is not what it allocates
// in a build without it.
const raceEnabled = true
