//go:build race

package store_test

// raceEnabled: the race detector is on. The model-based test then skips:
// its work is in child processes it kills at random, which the detector
// makes 4 times slower and cannot watch across a kill; make test runs it in
// a build without it, and the store's goroutines are watched by the
// detector in TestDurableStoreConcurrentWrites.
const raceEnabled = true
