//go:build race

package main

// raceEnabled: the race detector is on. The tests that measure what a
// process costs (its RSS, beside thousands of connections or hundreds of MB
// of answers) then skip: the detector slows their clients, never the
// process they measure, which is built without it; make test runs them in
// a build without it.
const raceEnabled = true
