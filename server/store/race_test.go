//go:build race

package store_test

// raceEnabled: the test binary runs under the race detector, where every
// child process the model-based test starts costs some 0.3 s more.
const raceEnabled = true
