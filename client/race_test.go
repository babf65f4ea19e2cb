//go:build race

package client_test

// raceEnabled: the race detector is on. It multiplies costs unevenly, so
// the tests that measure a cost skip under it: make test runs them again in
// a build without it.
const raceEnabled = true
