package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/connector-group/members-api/server"
)

// TestPages: /docs, its files and /_admin/ need no token, even from a mock
// that wants one; they load nothing from anywhere but the mock.
func TestPages(t *testing.T) {
	h := newHarness(t, server.Config{Token: "s3cret"})
	external := regexp.MustCompile(`(src|href)="(https?:)?//`)
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/docs", "text/html", `src="/docs/assets/swagger-ui-bundle.js"`},
		{"/_admin/", "text/html", `fetch(path`},
		{"/docs/assets/swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle"},
		{"/docs/assets/swagger-ui.css", "text/css", ".swagger-ui"},
		{"/docs/assets/LICENSE", "text/plain", "Apache License"},
	} {
		res := h.do(http.MethodGet, tc.path, nil, nil)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), tc.contentType) ||
			!strings.Contains(string(res.body), tc.contains) {
			t.Errorf("GET %s: %d %s, %d bytes", tc.path, res.status, res.header.Get("Content-Type"), len(res.body))
		}
		if strings.HasSuffix(tc.contentType, "html") && external.Match(res.body) {
			t.Errorf("%s loads something from elsewhere: %s", tc.path, external.Find(res.body))
		}
	}
	assertError(t, h.do(http.MethodGet, "/docs/assets/nothing.js", nil, nil), 404, "Request_ResourceNotFound", "")
	assertError(t, h.do(http.MethodGet, "/docs/assets/..%2Fdocs.html", nil, nil), 400, "Request_BadRequest", "")
	// The admin API behind the dashboard keeps the token.
	if res := h.do(http.MethodGet, "/_admin/requests", nil, nil); res.status != http.StatusUnauthorized {
		t.Errorf("the journal without a token: %d", res.status)
	}
}

// TestPagesCannotBeFramed: the pages say no page may frame them
// (X-Frame-Options and the CSP's frame-ancestors), their CSP names their
// inline scripts by hash rather than allowing any, and every answer, pages
// or API, errors included, forbids content sniffing.
func TestPagesCannotBeFramed(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, path := range []string{"/docs", "/_admin/"} {
		res := h.do(http.MethodGet, path, nil, nil)
		csp := res.header.Get("Content-Security-Policy")
		if res.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "script-src 'self' 'sha256-") || strings.Contains(csp, "unsafe-eval") ||
			strings.Contains(csp, "script-src 'self' 'unsafe-inline'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: X-Frame-Options %q, CSP %q", path, res.header.Get("X-Frame-Options"), csp)
		}
	}
	for _, res := range []result{
		h.do(http.MethodGet, "/docs", nil, nil),
		h.do(http.MethodGet, "/healthz", nil, nil),
		h.do(http.MethodGet, listPath(testApp), authed(), nil),
		h.do(http.MethodGet, "/nowhere", nil, nil),
		h.add(testApp, `{"status":"String"}`),
	} {
		if res.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("a %d answer without X-Content-Type-Options: nosniff", res.status)
		}
	}
}

// TestIndexAndRedirects: / points at the pages and documents, as a page for
// a browser or curl and as JSON when asked for it; /docs/ and /_admin, the
// other spellings of the pages' paths, are permanent redirects to them.
func TestIndexAndRedirects(t *testing.T) {
	h := newHarness(t, server.Config{Token: "s3cret"})
	page := h.do(http.MethodGet, "/", nil, nil)
	if page.status != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") ||
		page.header.Get("Vary") != "Accept" || page.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET /: %d %v", page.status, page.header)
	}
	for _, link := range []string{`href="/docs"`, `href="/_admin/"`, `href="/openapi.yaml"`, `href="/openapi.json"`} {
		if !strings.Contains(string(page.body), link) {
			t.Errorf("the index page has no %s:\n%s", link, page.body)
		}
	}
	const links = `{"dashboard":"/_admin/","docs":"/docs","health":"/healthz","metrics":"/metrics",` +
		`"openapiJson":"/openapi.json","openapiYaml":"/openapi.yaml"}`
	for _, tc := range []struct {
		accept string
		json   bool
	}{
		{"", false},
		{"*/*", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"application/json", true},
		{"application/json, text/plain, */*", false},
		{"text/html;q=0.5, application/json", true},
		{"application/*;q=0.9, text/html;q=0.1", true},
		{"application/json;q=0", false},
	} {
		header := http.Header{}
		if tc.accept != "" {
			header.Set("Accept", tc.accept)
		}
		res := h.do(http.MethodGet, "/", header, nil)
		gotJSON := strings.HasPrefix(res.header.Get("Content-Type"), "application/json")
		if res.status != http.StatusOK || gotJSON != tc.json || (gotJSON && strings.TrimSpace(string(res.body)) != links) {
			t.Errorf("Accept %q: %d %s %s", tc.accept, res.status, res.header.Get("Content-Type"), res.body)
		}
	}
	for _, tc := range []struct{ method, path, location string }{
		{http.MethodGet, "/docs/", "/docs"},
		{http.MethodHead, "/docs/", "/docs"},
		{http.MethodGet, "/_admin", "/_admin/"},
		{http.MethodHead, "/_admin", "/_admin/"},
	} {
		res := h.do(tc.method, tc.path, nil, nil)
		if res.status != http.StatusPermanentRedirect || res.header.Get("Location") != tc.location || len(res.body) != 0 {
			t.Errorf("%s %s: %d, Location %q, %q", tc.method, tc.path, res.status, res.header.Get("Location"), res.body)
		}
	}
	assertError(t, h.do(http.MethodPost, "/", nil, nil), 405, "MethodNotAllowed", "")
}
