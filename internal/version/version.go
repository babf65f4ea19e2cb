// Package version says which release of the tool a binary is, and which
// commit it was built from, for connector-mock --version and connectorctl
// version.
package version

import (
	"runtime"
	"runtime/debug"
)

// Release is this release of the tool, as CHANGELOG.md names it.
const Release = "0.3.0"

// revision is set by `make build` (-ldflags -X), for builds whose build
// information carries no VCS settings (GOFLAGS=-buildvcs=false, go run).
var revision string

// Revision is the commit the binary was built from, shortened, with
// "+modified" when the working tree had changes; "" when the build recorded
// none (go run, or a build outside a checkout).
func Revision() string {
	if revision != "" {
		return revision
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "+modified"
	}
	return rev
}

// String is what a binary prints as its version: "name 0.3.0 (revision
// 9a4e06f1c2d3, go1.26.8 linux/amd64)".
func String(name string) string {
	s := name + " " + Release + " ("
	if rev := Revision(); rev != "" {
		s += "revision " + rev + ", "
	}
	return s + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
