package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
)

// TestHostNames: a request whose Host is a name of somebody else's (a page
// rebound to 127.0.0.1 by DNS) is refused with a 403 in the envelope before
// anything runs: the API, the admin API (the reset does not happen), the
// pages and unknown paths alike. IP addresses, localhost and *.localhost are
// answered, and so are the names given; "*" answers any.
func TestHostNames(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	h.addMember(app, "kept")
	withHost := func(method, target, host string, header http.Header) result {
		t.Helper()
		req := newRequest(method, target, nil)
		req.Host = host
		for k, v := range header {
			req.Header[k] = v
		}
		return h.send(req)
	}
	for _, tc := range []struct{ method, target string }{
		{http.MethodPost, "/_admin/reset"},
		{http.MethodGet, "/_admin/requests"},
		{http.MethodGet, listPath(app)},
		{http.MethodGet, "/docs"},
		{http.MethodGet, "/nowhere"},
	} {
		for _, host := range []string{"evil.example", "evil.example:8080", "127.0.0.1.evil.example:8080", "localhost.evil.example"} {
			res := withHost(tc.method, tc.target, host, authed())
			assertError(t, res, 403, "Forbidden", "")
			if env := decodeError(t, res.body); env.Error.Target == nil || *env.Error.Target != "Host" ||
				!strings.Contains(env.Error.Message, "DNS rebinding") {
				t.Errorf("%s %s (Host %s): %s", tc.method, tc.target, host, res.body)
			}
		}
	}
	if page := h.list(listPath(app)); len(page.Value) != 1 {
		t.Errorf("a refused reset emptied the group: %+v", page.Value)
	}
	for _, host := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "LOCALHOST", "my-app.localhost:3000", "10.0.0.7", "localhost."} {
		if res := withHost(http.MethodGet, listPath(app), host, authed()); res.status != http.StatusOK {
			t.Errorf("Host %s: %d %s", host, res.status, res.body)
		}
	}
	named := newHarness(t, server.Config{AllowedHosts: []string{"connector-mock"}})
	for host, want := range map[string]int{"connector-mock:8080": 200, "Connector-Mock": 200, "other:8080": 403} {
		req := newRequest(http.MethodGet, listPath(app), nil)
		req.Host = host
		req.Header = authed()
		if res := named.send(req); res.status != want {
			t.Errorf("--allowed-hosts connector-mock, Host %s: %d, want %d", host, res.status, want)
		}
	}
	anyHost := newHarness(t, server.Config{AllowedHosts: []string{"*"}})
	req := newRequest(http.MethodGet, listPath(app), nil)
	req.Host, req.Header = "evil.example", authed()
	if res := anyHost.send(req); res.status != http.StatusOK {
		t.Errorf("--allowed-hosts '*': %d", res.status)
	}
	if _, err := server.New(server.Config{AllowedHosts: []string{"mock:8080"}}); err == nil {
		t.Error("an allowed host with a port was accepted")
	}
}
