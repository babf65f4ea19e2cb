//go:build race

package store_test

// raceEnabled: the race detector is on. The model-based test then skips
// (its work is in child processes it kills at random, which the detector
// makes 4 times slower and cannot watch across a kill), and so does the
// test of damaged pages (bbolt reading 40 damaged files, and fsyncs); make
// test runs them in a build without it. The store's goroutines are watched
// by the detector in TestDurableStoreConcurrentWrites and every test that
// opens a file.
const raceEnabled = true
