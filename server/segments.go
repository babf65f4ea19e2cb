package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
)

// routeTable is the paths served, segment by segment, to name the segment
// of a request path that no route has, as Microsoft Graph does:
// 400 BadRequest "Resource not found for the segment 'x'.". It is built once,
// once, from the operations' paths (a parameter written :name, as Echo does).
type routeTable [][]string

// knownPaths are the routes served at the root (all) and those served under
// a version prefix too (service: those whose first segment is one of the
// service's; the admin API, the pages and the spec are at the root only).
type knownPaths struct {
	all, service routeTable
}

func newKnownPaths(operations []reqcheck.Operation, roots map[string]bool) knownPaths {
	var t knownPaths
	seen := map[string]bool{}
	for _, op := range operations {
		if path := echoPath(op.Path); !seen[path] {
			seen[path] = true
			segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
			t.all = append(t.all, segments)
			if roots[segments[0]] {
				t.service = append(t.service, segments)
			}
		}
	}
	return t
}

// unknownSegment is the first segment of the escaped path that no route
// has at its place, given every segment before it matched some route; an
// empty segment matches no parameter. It returns the whole last segment
// when every segment matched a route that is longer or shorter.
func (t routeTable) unknownSegment(escapedPath string) string {
	segments := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	candidates := t
	for i, seg := range segments {
		var next routeTable
		for _, route := range candidates {
			if i < len(route) && (route[i] == seg || seg != "" && strings.HasPrefix(route[i], ":")) {
				next = append(next, route)
			}
		}
		if len(next) == 0 {
			return unescapeSegment(seg)
		}
		candidates = next
	}
	return unescapeSegment(segments[len(segments)-1])
}

func unescapeSegment(seg string) string {
	if u, err := url.PathUnescape(seg); err == nil {
		return u
	}
	return seg
}

// profilesSegment is the collection of on-premises publishing profiles in
// the service's paths; the spec serves one profile, whose id the routes have
// as a literal segment after it.
const profilesSegment = "onPremisesPublishingProfiles"

// noRoute is the answer to a path no route has: a profile the spec does not
// serve is an entity that does not exist (404, as the service answers
// /onPremisesPublishingProfiles/provisioning/… for this API), anything else
// Graph's 400 naming the first segment no route has.
func (t knownPaths) noRoute(escapedPath string) *apiError {
	segments := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	if len(segments) > 0 && "/"+segments[0] == versionPrefix(escapedPath) {
		segments = segments[1:]
	}
	if len(segments) >= 2 && segments[0] == profilesSegment && segments[1] != "" && !t.all.servesProfile(segments[1]) {
		return notFound(fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.",
			reqcheck.Shorten(unescapeSegment(segments[1]))))
	}
	// Under a version prefix, the segment is named after it, as the service
	// names it: /beta/bogus is a segment 'bogus', not 'beta'.
	if prefix := versionPrefix(escapedPath); prefix != "" && len(escapedPath) > len(prefix)+1 {
		return noSuchSegment(t.service.unknownSegment(escapedPath[len(prefix):]))
	}
	return noSuchSegment(t.all.unknownSegment(escapedPath))
}

// servesProfile tells whether some route has profile after profilesSegment.
func (t routeTable) servesProfile(profile string) bool {
	for _, route := range t {
		if len(route) >= 2 && route[0] == profilesSegment && route[1] == profile {
			return true
		}
	}
	return false
}

// noSuchSegment is Graph's answer to a path it does not serve.
func noSuchSegment(segment string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: generated.ErrorCodeBadRequest,
		message: fmt.Sprintf("Resource not found for the segment '%s'.", reqcheck.Shorten(segment))}
}
