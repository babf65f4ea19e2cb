package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/connector-group/members-api/server"
)

// preflightHeader is what a browser sends before a page's POST with the
// Graph SDKs' headers.
func preflightHeader(origin string) http.Header {
	return http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {"authorization,content-type,client-request-id,sdkversion"}}
}

// TestCORSIsOptIn: without --cors-origins a preflight is the 405 of any
// method a path does not serve, and answers carry no Access-Control header.
func TestCORSIsOptIn(t *testing.T) {
	h := newHarness(t, server.Config{})
	res := h.do(http.MethodOptions, addPath(testApp), preflightHeader("http://localhost:3000"), nil)
	assertError(t, res, http.StatusMethodNotAllowed, "MethodNotAllowed", "")
	if got := res.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST", got)
	}
	res = h.do(http.MethodGet, listPath(testApp), authed("Origin", "http://localhost:3000"), nil)
	if res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an answer carries Access-Control-Allow-Origin without --cors-origins: %v", res.header)
	}
}

// TestCORSForTheNamedOrigins: a named origin's preflight is answered 204
// without a token, with the path's methods and the SDKs' headers; its
// answers, errors included, let it read them and the headers it needs;
// another origin, and the admin API, get nothing; the Host check stays.
func TestCORSForTheNamedOrigins(t *testing.T) {
	const app = "http://localhost:3000"
	h := newHarness(t, server.Config{CORSOrigins: []string{app, "https://spa.example"}})
	res := h.do(http.MethodOptions, addPath(testApp), preflightHeader(app), nil)
	if res.status != http.StatusNoContent {
		t.Fatalf("preflight: %d %s", res.status, res.body)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":  app,
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, client-request-id, SdkVersion, Prefer, ConsistencyLevel, Retry-Attempt",
		"Access-Control-Max-Age":       "600",
	} {
		if got := res.header.Get(name); got != want {
			t.Errorf("preflight %s = %q, want %q", name, got, want)
		}
	}
	res = h.do(http.MethodOptions, listPath(testApp), preflightHeader("HTTPS://SPA.example"), nil)
	if res.status != http.StatusNoContent || res.header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
		t.Errorf("the list's preflight from the other origin: %d, methods %q", res.status, res.header.Get("Access-Control-Allow-Methods"))
	}

	// The add and the list, as the page's fetch sends them.
	res = h.add(testApp, validBody, "Origin", app)
	if res.status != http.StatusNoContent || res.header.Get("Access-Control-Allow-Origin") != app ||
		!strings.Contains(res.header.Get("Access-Control-Expose-Headers"), "Location") || !strings.Contains(res.header.Get("Vary"), "Origin") {
		t.Errorf("add: %d %v", res.status, res.header)
	}
	res = h.do(http.MethodGet, listPath(testApp)+"?$top=0", authed("Origin", app), nil)
	if res.status != http.StatusBadRequest || res.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("an error's answer: %d, Access-Control-Allow-Origin %q", res.status, res.header.Get("Access-Control-Allow-Origin"))
	}

	// Another origin, a preflight without its method, the admin API: nothing.
	res = h.do(http.MethodOptions, addPath(testApp), preflightHeader("http://evil.example"), nil)
	assertError(t, res, http.StatusMethodNotAllowed, "MethodNotAllowed", "")
	if res.header.Get("Access-Control-Allow-Origin") != "" || res.header.Get("Vary") != "Origin" {
		t.Errorf("another origin was let in, or the answer does not say it varies by Origin: %v", res.header)
	}
	res = h.do(http.MethodOptions, addPath(testApp), http.Header{"Origin": {app}}, nil)
	assertError(t, res, http.StatusMethodNotAllowed, "MethodNotAllowed", "")
	res = h.do(http.MethodGet, "/_admin/faults", authed("Origin", app), nil)
	if res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the admin API answered a page without --cors-admin: %v", res.header)
	}
	// The Host check comes first: a page rebound to the mock gets a 403.
	req := newRequest(http.MethodOptions, addPath(testApp), nil)
	req.Host = "attacker.example"
	req.Header = preflightHeader(app)
	res = h.send(req)
	if res.status != http.StatusForbidden || res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign Host: %d %v", res.status, res.header)
	}

	admin := newHarness(t, server.Config{CORSOrigins: []string{app}, CORSAdmin: true})
	if res := admin.do(http.MethodGet, "/_admin/faults", authed("Origin", app), nil); res.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("the admin API with CORSAdmin: %v", res.header)
	}
}

func TestCORSOriginsAreChecked(t *testing.T) {
	for _, bad := range []string{"localhost:3000", "http://localhost:3000/", "ftp://x", "http://user@x", "*"} {
		if _, err := server.New(server.Config{CORSOrigins: []string{bad}}); err == nil || !strings.Contains(err.Error(), "is not an origin") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := server.New(server.Config{CORSAdmin: true}); err == nil {
		t.Error("CORSAdmin without origins was accepted")
	}
}
