package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
)

// routeTable is the paths served, segment by segment, to name the segment
// of a request path that no route has, as Microsoft Graph does:
// 400 BadRequest "Resource not found for the segment 'x'.". It is built once,
// in New, from the routes Echo serves (a parameter written :name).
type routeTable [][]string

func newRouteTable(routes []*echo.Route) routeTable {
	var t routeTable
	seen := map[string]bool{}
	for _, r := range routes {
		if !seen[r.Path] {
			seen[r.Path] = true
			t = append(t, strings.Split(strings.TrimPrefix(r.Path, "/"), "/"))
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

// noSuchSegment is Graph's answer to a path it does not serve.
func noSuchSegment(segment string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: generated.ErrorCodeBadRequest,
		message: fmt.Sprintf("Resource not found for the segment '%s'.", reqcheck.Shorten(segment))}
}
