package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// The service's own paths, as the Graph SDKs build them.
const (
	profile = "/onPremisesPublishingProfiles/applicationProxy"
)

func groupPath(group string) string           { return profile + "/connectorGroups/" + group + "/members" }
func groupMemberPath(group, id string) string { return groupPath(group) + "/" + id }
func connectorPath(id string) string          { return profile + "/connectors/" + id }

// reference is the body the Graph SDKs send to add a member by reference.
func reference(id string) string {
	return `{"@odata.id":"https://graph.microsoft.com/beta` + connectorPath(id) + `"}`
}

func decodeAs[T any](t *testing.T, res result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("status %d, body %s: %v", res.status, res.body, err)
	}
	return v
}

// assertErrorAt is assertError for an error whose error.target is target.
func assertErrorAt(t *testing.T, res result, status int, code, target string) {
	t.Helper()
	assertError(t, res, status, code, "")
	got := ""
	if env := decodeError(t, res.body); env.Error.Target != nil {
		got = *env.Error.Target
	}
	if got != target {
		t.Errorf("error.target = %q, want %q\n%s", got, target, res.body)
	}
}

// TestServicePathsShareOneStore: with --implicit-groups, the service's paths
// make a group on first use, as the seed page's path does.
func TestServicePathsShareOneStore(t *testing.T) {
	h := newHarness(t, server.Config{ImplicitGroups: true})
	app, other := uuid.NewString(), uuid.NewString()
	id := h.addMember(app, "eu-01") // at the seed page's path

	// The same group at the service's path, under /beta as an SDK's base URL ends.
	res := h.do(http.MethodGet, "/beta"+groupPath(app), authed(), nil)
	page := decodeAs[generated.ConnectorCollection](t, res)
	if res.status != http.StatusOK || len(page.Value) != 1 || page.Value[0].ID.String() != id {
		t.Fatalf("the group at the service's path: %d %s", res.status, res.body)
	}
	// An application's connector group is the group with its id.
	res = h.do(http.MethodGet, "/v1.0/applications/"+app+"/connectorGroup", authed(), nil)
	if group := decodeAs[generated.ConnectorGroup](t, res); res.status != http.StatusOK || group.ID.String() != app ||
		group.OdataType != generated.ConnectorGroupOdataTypeHashMicrosoftGraphConnectorGroup || string(group.Name) != app {
		t.Errorf("the application's connector group: %d %s", res.status, res.body)
	}

	// Add by reference, at the service's path: Location is the service's path, with the prefix.
	res = h.do(http.MethodPost, "/beta"+groupPath(other)+"/$ref", jsonHeader("Prefer", "return=representation"), strings.NewReader(reference(id)))
	if res.status != http.StatusCreated {
		t.Fatalf("add by reference: %d %s", res.status, res.body)
	}
	if got, want := res.header.Get("Location"), "http://127.0.0.1:8080/beta"+groupMemberPath(other, id); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if c := decodeAs[generated.Connector](t, res); c.MachineName != "eu-01" || c.ID.String() != id {
		t.Errorf("the representation %s, want the connector as known", res.body)
	}
	// Again: the service's duplicate message, and nothing changes.
	res = h.do(http.MethodPost, groupPath(other)+"/$ref", jsonHeader(), strings.NewReader(reference(id)))
	assertError(t, res, http.StatusBadRequest, "Request_BadRequest", "")

	// A connector is in one group: the add by reference moved it out of app.
	assertErrorAt(t, h.do(http.MethodGet, memberPath(app, id), authed(), nil), http.StatusNotFound, "Request_ResourceNotFound", "connectorId")

	// A body-form add of a known id moves it again, and updates the connector.
	third := uuid.NewString()
	res = h.do(http.MethodPost, groupPath(third)+"/$ref", jsonHeader(),
		strings.NewReader(`{"id":"`+id+`","externalIp":"2001:db8::1","machineName":"eu-01-moved","status":"inactive"}`))
	if res.status != http.StatusNoContent {
		t.Fatalf("body-form add of a known id: %d %s", res.status, res.body)
	}
	for _, path := range []string{groupMemberPath(third, id), connectorPath(id)} {
		res = h.do(http.MethodGet, path, authed(), nil)
		if c := decodeAs[generated.Connector](t, res); c.MachineName != "eu-01-moved" || c.Status != "inactive" {
			t.Errorf("GET %s after the update: %s", path, res.body)
		}
	}
	assertErrorAt(t, h.do(http.MethodGet, groupMemberPath(other, id), authed(), nil), http.StatusNotFound, "Request_ResourceNotFound", "connectorId")

	// The connector's group: one.
	res = h.do(http.MethodGet, connectorPath(id)+"/memberOf", authed(), nil)
	groups := decodeAs[generated.ConnectorGroupCollection](t, res)
	if len(groups.Value) != 1 || groups.Value[0].ID.String() != third || groups.OdataNextLink != nil {
		t.Fatalf("memberOf: %s", res.body)
	}
	// The connectors, each once.
	res = h.do(http.MethodGet, "/beta"+profile+"/connectors", authed(), nil)
	if page := decodeAs[generated.ConnectorCollection](t, res); len(page.Value) != 1 || page.Value[0].ID.String() != id {
		t.Errorf("connectors: %s", res.body)
	}

	// Remove at the service's path: the connector stays known, in the default group.
	res = h.do(http.MethodDelete, groupMemberPath(third, id)+"/$ref", authed(), nil)
	if res.status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", res.status, res.body)
	}
	assertErrorAt(t, h.do(http.MethodGet, groupMemberPath(third, id), authed(), nil), http.StatusNotFound, "Request_ResourceNotFound", "connectorId")
	if res = h.do(http.MethodHead, connectorPath(id), authed(), nil); res.status != http.StatusOK {
		t.Errorf("HEAD of the connector after its removal from a group: %d", res.status)
	}
	res = h.do(http.MethodGet, connectorPath(id)+"/memberOf", authed(), nil)
	if groups = decodeAs[generated.ConnectorGroupCollection](t, res); len(groups.Value) != 1 || !groups.Value[0].IsDefault {
		t.Errorf("memberOf after the removal: %s, want the default group", res.body)
	}
	// Out of the default group only by an add elsewhere.
	res = h.do(http.MethodDelete, groupMemberPath(store.DefaultGroupID.String(), id)+"/$ref", authed(), nil)
	assertErrorAt(t, res, http.StatusBadRequest, "Request_BadRequest", "connectorId")
}

func TestServiceErrors(t *testing.T) {
	h := newHarness(t, server.Config{})
	unknown := uuid.NewString()
	group := h.createGroup("errors")
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		code, target             string
	}{
		{"a reference to an unknown connector", http.MethodPost, groupPath(group) + "/$ref", reference(unknown), 404, "Request_ResourceNotFound", "/@odata.id"},
		{"a reference that names no connector", http.MethodPost, groupPath(group) + "/$ref", `{"@odata.id":"https://graph.microsoft.com/beta/users/` + unknown + `"}`, 400, "Request_BadRequest", "/@odata.id"},
		{"an add to a group never created", http.MethodPost, groupPath(unknown) + "/$ref", validBody, 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"the members of a group never created", http.MethodGet, groupPath(unknown), "", 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"a member of a group never created", http.MethodGet, groupMemberPath(unknown, unknown), "", 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"a removal from a group never created", http.MethodDelete, groupMemberPath(unknown, unknown) + "/$ref", "", 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"a group never created", http.MethodGet, profile + "/connectorGroups/" + unknown, "", 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"an update of a group never created", http.MethodPatch, profile + "/connectorGroups/" + unknown, `{"name":"x"}`, 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"a delete of a group never created", http.MethodDelete, profile + "/connectorGroups/" + unknown, "", 404, "Request_ResourceNotFound", "connectorGroupId"},
		{"a reference that is not a string", http.MethodPost, addPath(uuid.NewString()), `{"@odata.id":7}`, 400, "Request_BadRequest", "/@odata.id"},
		{"both forms' properties", http.MethodPost, addPath(uuid.NewString()), `{"@odata.id":"x","status":"active"}`, 400, "Request_BadRequest", ""},
		{"an unknown connector", http.MethodGet, connectorPath(unknown), "", 404, "Request_ResourceNotFound", "connectorId"},
		{"the groups of an unknown connector", http.MethodGet, connectorPath(unknown) + "/memberOf", "", 404, "Request_ResourceNotFound", "connectorId"},
		{"a group id that is not a GUID", http.MethodGet, groupPath("x"), "", 400, "Request_BadRequest", "connectorGroupId"},
		{"another publishing profile", http.MethodGet, "/onPremisesPublishingProfiles/provisioning/connectors", "", 404, "Request_ResourceNotFound", ""},
		{"another publishing profile, under /beta", http.MethodGet, "/beta/onPremisesPublishingProfiles/provisioning/connectorGroups", "", 404, "Request_ResourceNotFound", ""},
		{"a segment the profile does not have", http.MethodGet, profile + "/agents", "", 400, "BadRequest", ""},
		{"a skiptoken of another listing", http.MethodGet, profile + "/connectors?$skiptoken=" + strings.Repeat("A", 50), "", 400, "Request_BadRequest", "$skiptoken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := h.do(c.method, c.path, jsonHeader(), strings.NewReader(c.body))
			assertErrorAt(t, res, c.status, c.code, c.target)
		})
	}
	// Graph's message for a segment it does not have.
	res := h.do(http.MethodGet, profile+"/agents", authed(), nil)
	if env := decodeError(t, res.body); env.Error.Message != "Resource not found for the segment 'agents'." {
		t.Errorf("message %q", env.Error.Message)
	}
}

// TestSkipTokensStayWithTheirListing: a members token does not resume the
// groups of a connector with the same id.
func TestSkipTokensStayWithTheirListing(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	h.addMember(app, "a")
	h.addMember(app, "b")
	page := h.list(listPath(app) + "?$top=1")
	if page.OdataNextLink == nil {
		t.Fatal("no next link")
	}
	token := (*page.OdataNextLink)[strings.Index(*page.OdataNextLink, "$skiptoken=")+len("$skiptoken="):]
	assertErrorAt(t, h.do(http.MethodGet, profile+"/connectors?$skiptoken="+token, authed(), nil), 400, "Request_BadRequest", "$skiptoken")
	if res := h.do(http.MethodGet, groupPath(app)+"?$top=1&$skiptoken="+token, authed(), nil); res.status != http.StatusOK {
		t.Errorf("the same group at the service's path refused the token: %d %s", res.status, res.body)
	}
}
