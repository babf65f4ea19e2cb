package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/internal/reqcheck"
)

// CORS, opt-in (Config.CORSOrigins, --cors-origins): a single-page app on
// another origin (http://localhost:3000 with MSAL.js and the Graph client)
// may call the API from a browser. None by default: any page the developer
// opens could otherwise read the mock. The admin API is left out unless
// Config.CORSAdmin asks, and the Host check stays first.

// corsRequestHeaders are the request headers a page may send: what the Graph
// SDKs send (the JavaScript client's middleware and kiota's).
const corsRequestHeaders = "Authorization, Content-Type, client-request-id, SdkVersion, Prefer, ConsistencyLevel, Retry-Attempt"

// corsExposedHeaders are the response headers a page may read.
const corsExposedHeaders = "Location, OData-EntityId, Preference-Applied, request-id, client-request-id, Retry-After, " +
	"RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"

// corsMaxAge is how long, in seconds, a browser may keep a preflight's answer.
const corsMaxAge = "600"

// corsPolicy says which origins may call the mock from a browser, and the
// methods each route serves (a preflight's Allow-Methods, a refused one's Allow).
type corsPolicy struct {
	origins map[string]bool // as browsers send them: scheme://host[:port], lower case
	admin   bool
	methods map[string]string // echo route path -> "GET, HEAD, POST"
}

// newCORSPolicy checks the origins (scheme, host and port only).
func newCORSPolicy(origins []string, admin bool, operations []reqcheck.Operation) (*corsPolicy, error) {
	p := &corsPolicy{origins: map[string]bool{}, admin: admin, methods: map[string]string{}}
	for _, o := range origins {
		if err := CheckCORSOrigin(o); err != nil {
			return nil, err
		}
		p.origins[strings.ToLower(o)] = true
	}
	if admin && len(p.origins) == 0 {
		return nil, errors.New("CORS for the admin API needs the origins it is for")
	}
	byPath := map[string][]string{}
	for _, op := range operations {
		if op.Method != http.MethodOptions {
			path := echoPath(op.Path)
			byPath[path] = append(byPath[path], op.Method)
		}
	}
	for path, methods := range byPath {
		slices.Sort(methods)
		p.methods[path] = strings.Join(slices.Compact(methods), ", ")
	}
	return p, nil
}

// CheckCORSOrigin says why origin is not one a browser sends
// (scheme://host[:port]), or nil.
func CheckCORSOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin: give scheme://host[:port], as a browser sends it", origin)
	}
	return nil
}

// allows tells whether a page of origin may call path.
func (p *corsPolicy) allows(origin, path string) bool {
	if origin == "" || !p.origins[strings.ToLower(origin)] {
		return false
	}
	return p.admin || !strings.HasPrefix(path, "/_admin")
}

// decorate lets a page of an allowed origin read the answer to req, errors
// included: set before anything else is written.
func (p *corsPolicy) decorate(h http.Header, req *http.Request) {
	origin := req.Header.Get("Origin")
	if len(p.origins) == 0 || origin == "" {
		return
	}
	// The answer depends on the Origin, allowed or not: a cache must not
	// hand one origin's answer to another.
	h.Add("Vary", "Origin")
	if p.allows(origin, req.URL.Path) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
	}
}

// preflight answers a CORS preflight of an allowed origin with 204 and what
// the route allows, and anything else as a method the path does not serve.
func (h *handlers) preflight(c echo.Context) error {
	req := c.Request()
	allow := h.cors.methods[c.Path()]
	if !h.cors.allows(req.Header.Get("Origin"), req.URL.Path) || req.Header.Get("Access-Control-Request-Method") == "" {
		c.Set(echo.ContextKeyHeaderAllow, allow)
		return echo.MethodNotAllowedHandler(c)
	}
	header := c.Response().Header()
	header.Set("Access-Control-Allow-Methods", allow)
	header.Set("Access-Control-Allow-Headers", corsRequestHeaders)
	header.Set("Access-Control-Max-Age", corsMaxAge)
	header.Add("Vary", "Access-Control-Request-Method")
	header.Add("Vary", "Access-Control-Request-Headers")
	return c.NoContent(http.StatusNoContent)
}
