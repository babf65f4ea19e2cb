package server

import (
	"slices"
	"strings"

	"github.com/connector-group/members-api/internal/reqcheck"
)

// versionPrefixes are what the Graph SDKs' base URLs end in
// (https://graph.microsoft.com/v1.0, …/beta): the service's operations are
// served under each as at the root. The admin API, the pages, /metrics,
// /healthz and the spec stay at the root only.
var versionPrefixes = [...]string{"/beta", "/v1.0"}

// versionPrefix is the version prefix a request path starts with, or "".
func versionPrefix(path string) string {
	for _, p := range versionPrefixes {
		if strings.HasPrefix(path, p) && (len(path) == len(p) || path[len(p)] == '/') {
			return p
		}
	}
	return ""
}

// serviceRoots are the first segments of the service's operations' paths
// ("applications", "onPremisesPublishingProfiles"): what may follow a
// version prefix.
func serviceRoots(operations []reqcheck.Operation) map[string]bool {
	roots := map[string]bool{}
	for _, op := range operations {
		if isService(op) || slices.Contains(op.Tags, "batch") { // Graph serves $batch under each version
			first, _, _ := strings.Cut(strings.TrimPrefix(op.Path, "/"), "/")
			roots[first] = true
		}
	}
	return roots
}

// routeVersion routes a path under a version prefix as the same path at the
// root, when what follows the prefix is the service's (so /beta/_admin/
// stays a path the API does not have), and returns the prefix for the
// links, the log and the journal. The routes are registered once, at the
// root: registering them under each prefix too tripled what starting a mock
// costs. Requests at the root, the many, pay two comparisons.
func routeVersion(path string, roots map[string]bool) (prefix, rest string) {
	prefix = versionPrefix(path)
	if prefix == "" {
		return "", path
	}
	rest = path[len(prefix):]
	first, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if !roots[first] {
		return "", path
	}
	return prefix, rest
}
