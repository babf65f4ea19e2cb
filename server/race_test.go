//go:build race

package server_test

// raceEnabled: the race detector is on. It multiplies costs unevenly (a
// read some 10 times, sync.Pool dropping what is put in it at random), so
// the tests that measure a cost skip under it: make test runs them again in
// a build without it.
const raceEnabled = true
