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
