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
