package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
)

// TestVersionPrefixes: the member operations are served at the root, under
// /beta and under /v1.0 (what the Graph SDKs' base URLs end in), over one
// store; Location, OData-EntityId and @odata.nextLink keep the request's
// prefix; the admin API, the pages, /metrics, /healthz and the spec stay at
// the root only.
func TestVersionPrefixes(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	for i, prefix := range []string{"/beta", "/v1.0", ""} {
		id := uuid.NewString()
		res := h.do(http.MethodPost, prefix+addPath(app), jsonHeader(),
			strings.NewReader(`{"id":"`+id+`","externalIp":"192.0.2.1","machineName":"m`+string(rune('0'+i))+`","status":"active"}`))
		if res.status != http.StatusNoContent {
			t.Fatalf("POST %s: %d %s", prefix+addPath(app), res.status, res.body)
		}
		for _, name := range []string{"Location", "OData-EntityId"} {
			if got := res.header.Get(name); !strings.HasSuffix(got, prefix+memberPath(app, id)) || !strings.HasPrefix(got, "http://") ||
				prefix == "" && strings.Contains(got, "/beta/") {
				t.Errorf("POST under %q: %s %q", prefix, name, got)
			}
		}
		if got := h.do(http.MethodGet, prefix+memberPath(app, id), authed(), nil); got.status != http.StatusOK {
			t.Errorf("GET %s: %d", prefix+memberPath(app, id), got.status)
		}
	}
	for _, prefix := range []string{"", "/beta", "/v1.0"} {
		page := h.list(prefix + listPath(app) + "?$top=2")
		if len(page.Value) != 2 || page.OdataNextLink == nil || !strings.Contains(*page.OdataNextLink, prefix+listPath(app)+"?") {
			t.Fatalf("the first page under %q: %d members, next %v", prefix, len(page.Value), page.OdataNextLink)
		}
		if prefix != "" && strings.Contains(*page.OdataNextLink, "/beta/v1.0") {
			t.Errorf("next link %s", *page.OdataNextLink)
		}
		if names := h.walkFrom(prefix + listPath(app) + "?$top=2"); strings.Join(names, ",") != "m0,m1,m2" {
			t.Errorf("walking under %q: %v, want the one group m0,m1,m2", prefix, names)
		}
	}
	for _, target := range []string{"/beta/healthz", "/v1.0/metrics", "/beta/openapi.json", "/v1.0/_admin/requests", "/beta/docs"} {
		res := h.do(http.MethodGet, target, authed(), nil)
		assertError(t, res, 400, "BadRequest", "")
		if env := decodeError(t, res.body); !strings.HasPrefix(env.Error.Message, "Resource not found for the segment '") {
			t.Errorf("GET %s: %q", target, env.Error.Message)
		}
	}
	res := h.do(http.MethodGet, "/beta/applications/"+app+"/connectorGroupz", authed(), nil)
	if env := decodeError(t, res.body); res.status != 400 || env.Error.Message != "Resource not found for the segment 'connectorGroupz'." {
		t.Errorf("an unknown segment under /beta: %d %q", res.status, env.Error.Message)
	}
}

// TestUnknownSegmentsUnderAPrefix: under /beta and /v1.0 the segment named
// is the one after the prefix, as the service names it, also where the rest
// is not the service's (the admin API is at the root only).
func TestUnknownSegmentsUnderAPrefix(t *testing.T) {
	h := newHarness(t, server.Config{})
	for path, segment := range map[string]string{
		"/beta/bogus":                          "bogus",
		"/v1.0/_admin/requests":                "_admin",
		"/beta/applications/" + testApp + "/x": "x",
		"/v1.0/onPremisesPublishingProfiles/applicationProxy/agents": "agents",
	} {
		res := h.do(http.MethodGet, path, authed(), nil)
		if env := decodeError(t, res.body); res.status != http.StatusBadRequest || env.Error.Message != "Resource not found for the segment '"+segment+"'." {
			t.Errorf("GET %s: %d %q, want 400 naming %q", path, res.status, env.Error.Message, segment)
		}
	}
}
