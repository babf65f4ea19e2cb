package server

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/internal/reqcheck"
)

// versionPrefixes are what the Graph SDKs' base URLs end in
// (https://graph.microsoft.com/v1.0, …/beta): the member operations are
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

// memberRouter registers on a version's group the routes of the member
// operations only, as the generated RegisterHandlers hands them over.
type memberRouter struct {
	*echo.Group
	paths map[string]bool // the member operations' paths, as Echo writes them
}

func newMemberRouter(g *echo.Group, operations []reqcheck.Operation) memberRouter {
	r := memberRouter{Group: g, paths: map[string]bool{}}
	for _, op := range operations {
		if isService(op) {
			r.paths[echoPath(op.Path)] = true
		}
	}
	return r
}

// GET implements echoapi.EchoRouter for member operations only.
func (r memberRouter) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.GET, path, h, m)
}

// HEAD implements echoapi.EchoRouter for member operations only.
func (r memberRouter) HEAD(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.HEAD, path, h, m)
}

// POST implements echoapi.EchoRouter for member operations only.
func (r memberRouter) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.POST, path, h, m)
}

// DELETE implements echoapi.EchoRouter for member operations only.
func (r memberRouter) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.DELETE, path, h, m)
}

// PUT implements echoapi.EchoRouter for member operations only.
func (r memberRouter) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.PUT, path, h, m)
}

// PATCH implements echoapi.EchoRouter for member operations only.
func (r memberRouter) PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.PATCH, path, h, m)
}

// OPTIONS implements echoapi.EchoRouter for member operations only.
func (r memberRouter) OPTIONS(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.OPTIONS, path, h, m)
}

// CONNECT implements echoapi.EchoRouter for member operations only.
func (r memberRouter) CONNECT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.CONNECT, path, h, m)
}

// TRACE implements echoapi.EchoRouter for member operations only.
func (r memberRouter) TRACE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(r.Group.TRACE, path, h, m)
}

func (r memberRouter) add(register func(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route,
	path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	if !r.paths[path] {
		return nil // not a member operation: root only
	}
	return register(path, h, m...)
}
