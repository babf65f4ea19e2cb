package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

func groupsPath() string           { return profile + "/connectorGroups" }
func groupEntity(id string) string { return groupsPath() + "/" + id }

// createGroup creates a connector group named name and returns its id.
func (h *harness) createGroup(name string) string {
	h.t.Helper()
	res := h.do(http.MethodPost, groupsPath(), jsonHeader(), strings.NewReader(`{"name":"`+name+`"}`))
	if res.status != http.StatusCreated {
		h.t.Fatalf("creating group %s: %d %s", name, res.status, res.body)
	}
	g := decodeAs[generated.ConnectorGroup](h.t.(*testing.T), res)
	return g.ID.String()
}

// TestConnectorGroupLifecycle walks what an Application Proxy script does:
// list the groups, create one for a region, add a connector, rename it,
// try to move its region and to delete it while it has members, empty it,
// delete it. Every answer is checked against the spec by the harness.
func TestConnectorGroupLifecycle(t *testing.T) {
	h := newHarness(t, server.Config{})

	res := h.do(http.MethodGet, "/beta"+profile, authed(), nil)
	if p := decodeAs[generated.OnPremisesPublishingProfile](t, res); res.status != http.StatusOK || p.ID != "applicationProxy" || !p.IsEnabled {
		t.Errorf("the profile: %d %s", res.status, res.body)
	}
	res = h.do(http.MethodGet, groupsPath(), authed(), nil)
	list := decodeAs[generated.ConnectorGroupCollection](t, res)
	if len(list.Value) != 1 || !list.Value[0].IsDefault || list.Value[0].ID.String() != store.DefaultGroupID.String() || list.Value[0].Name != "Default" {
		t.Fatalf("a new mock's groups: %s", res.body)
	}

	// Create (the service page's example, with a region): 201, Location, the server's properties.
	res = h.do(http.MethodPost, "/beta"+groupsPath(), jsonHeader(), strings.NewReader(`{"name":"Connector Group Demo","region":"eur"}`))
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	g := decodeAs[generated.ConnectorGroup](t, res)
	id := g.ID.String()
	if g.Name != "Connector Group Demo" || *g.Region != "eur" || g.IsDefault || g.ConnectorGroupType != "applicationProxy" ||
		g.OdataType != "#microsoft.graph.connectorGroup" {
		t.Errorf("the created group: %s", res.body)
	}
	if got, want := res.header.Get("Location"), "http://127.0.0.1:8080/beta"+groupEntity(id); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}

	// What the server sets cannot be sent.
	for _, body := range []string{`{"name":"x","isDefault":true}`, `{"name":"x","id":"` + id + `"}`, `{"name":"x","connectorGroupType":"applicationProxy"}`} {
		res = h.do(http.MethodPost, groupsPath(), jsonHeader(), strings.NewReader(body))
		target := body[strings.LastIndex(body, `,"`)+2 : strings.LastIndex(body, `":`)]
		assertErrorAt(t, res, http.StatusBadRequest, "Request_BadRequest", "/"+target)
		if env := decodeError(t, res.body); !strings.Contains(env.Error.Message, "read-only") {
			t.Errorf("%s: message %q", body, env.Error.Message)
		}
	}
	assertErrorAt(t, h.do(http.MethodPost, groupsPath(), jsonHeader(), strings.NewReader(`{"region":"mars"}`)), http.StatusBadRequest, "Request_BadRequest", "/name")

	// A member, at the service's path.
	res = h.do(http.MethodPost, groupPath(id)+"/$ref", jsonHeader(), strings.NewReader(validBody))
	if res.status != http.StatusNoContent {
		t.Fatalf("add to the created group: %d %s", res.status, res.body)
	}
	memberID := res.header.Get("Location")[strings.LastIndex(res.header.Get("Location"), "/")+1:]

	// Update: a new name keeps the rest; a new region is refused while it has members.
	if res = h.do(http.MethodPatch, groupEntity(id), jsonHeader(), strings.NewReader(`{"name":"eu-connectors"}`)); res.status != http.StatusNoContent {
		t.Fatalf("rename: %d %s", res.status, res.body)
	}
	res = h.do(http.MethodGet, groupEntity(id), authed(), nil)
	if g = decodeAs[generated.ConnectorGroup](t, res); g.Name != "eu-connectors" || *g.Region != "eur" {
		t.Errorf("after the rename: %s", res.body)
	}
	res = h.do(http.MethodPatch, groupEntity(id), jsonHeader(), strings.NewReader(`{"region":"nam"}`))
	assertErrorAt(t, res, http.StatusBadRequest, "Request_BadRequest", "/region")
	assertErrorAt(t, h.do(http.MethodPatch, groupEntity(id), jsonHeader(), strings.NewReader(`{"isDefault":true}`)), http.StatusBadRequest, "Request_BadRequest", "/isDefault")

	// Delete: refused with the service's wording while it has members, and for the default group.
	res = h.do(http.MethodDelete, groupEntity(id), authed(), nil)
	assertErrorAt(t, res, http.StatusBadRequest, "Request_BadRequest", "connectorGroupId")
	if env := decodeError(t, res.body); env.Error.Message != "All connectors and applications must be removed from the connector group before a connector group can be deleted." {
		t.Errorf("message %q", env.Error.Message)
	}
	assertErrorAt(t, h.do(http.MethodDelete, groupEntity(store.DefaultGroupID.String()), authed(), nil), http.StatusBadRequest, "Request_BadRequest", "connectorGroupId")
	if res = h.do(http.MethodDelete, groupMemberPath(id, memberID)+"/$ref", authed(), nil); res.status != http.StatusNoContent {
		t.Fatalf("remove the member: %d %s", res.status, res.body)
	}
	if res = h.do(http.MethodDelete, groupEntity(id), authed(), nil); res.status != http.StatusNoContent {
		t.Fatalf("delete the emptied group: %d %s", res.status, res.body)
	}
	assertErrorAt(t, h.do(http.MethodGet, groupEntity(id), authed(), nil), http.StatusNotFound, "Request_ResourceNotFound", "connectorGroupId")
	if res = h.do(http.MethodHead, groupEntity(store.DefaultGroupID.String()), authed(), nil); res.status != http.StatusOK {
		t.Errorf("HEAD of the default group: %d", res.status)
	}
}

// TestConnectorGroupsArePaged: the groups list pages as the members do,
// its $skiptoken bound to it.
func TestConnectorGroupsArePaged(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, name := range []string{"a", "b", "c"} {
		h.createGroup(name)
	}
	var names []string
	path := groupsPath() + "?$top=2"
	for path != "" {
		res := h.do(http.MethodGet, path, authed(), nil)
		page := decodeAs[generated.ConnectorGroupCollection](t, res)
		for _, g := range page.Value {
			names = append(names, string(g.Name))
		}
		path = ""
		if page.OdataNextLink != nil {
			path = strings.TrimPrefix(*page.OdataNextLink, "http://127.0.0.1:8080")
		}
	}
	if got := strings.Join(names, ","); got != "Default,a,b,c" {
		t.Errorf("groups %s, want Default,a,b,c", got)
	}
}

// TestApplicationAssignment: as the Application Proxy tutorial does it, an
// application is assigned to a group by an OData reference; its connector
// group, the group's applications and its members at the seed page's path
// follow; a group with an application is not deleted; assigning it again
// moves it.
func TestApplicationAssignment(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := "bf21f7e9-9d25-4da2-82ab-7fdd85049f83"
	eu, us := h.createGroup("eu"), h.createGroup("us")
	assign := func(group string) result {
		return h.do(http.MethodPut, "/beta/applications/"+app+"/connectorGroup/$ref", jsonHeader(),
			strings.NewReader(`{"@odata.id":"https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationproxy/connectorGroups/`+group+`"}`))
	}
	if res := assign(eu); res.status != http.StatusNoContent {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	res := h.do(http.MethodGet, "/applications/"+app+"/connectorGroup", authed(), nil)
	if g := decodeAs[generated.ConnectorGroup](t, res); g.ID.String() != eu || g.Name != "eu" {
		t.Errorf("the application's group: %s", res.body)
	}
	res = h.do(http.MethodGet, groupEntity(eu)+"/applications", authed(), nil)
	if apps := decodeAs[generated.ApplicationCollection](t, res); len(apps.Value) != 1 || apps.Value[0].ID.String() != app {
		t.Errorf("the group's applications: %s", res.body)
	}
	// The seed page's path now names the assigned group.
	id := h.addMember(app, "via-the-application")
	res = h.do(http.MethodGet, groupPath(eu), authed(), nil)
	if page := decodeAs[generated.ConnectorCollection](t, res); len(page.Value) != 1 || page.Value[0].ID.String() != id {
		t.Errorf("the assigned group's members: %s", res.body)
	}
	if res = h.do(http.MethodDelete, memberPath(app, id)+"/$ref", authed(), nil); res.status != http.StatusNoContent {
		t.Errorf("remove at the seed page's path: %d %s", res.status, res.body)
	}
	// Still assigned: the group is not deleted, nor given a new region.
	assertErrorAt(t, h.do(http.MethodDelete, groupEntity(eu), authed(), nil), http.StatusBadRequest, "Request_BadRequest", "connectorGroupId")
	assertErrorAt(t, h.do(http.MethodPatch, groupEntity(eu), jsonHeader(), strings.NewReader(`{"region":"eur"}`)), http.StatusBadRequest, "Request_BadRequest", "/region")

	// Assigning it again moves it; the first group is then free to go.
	if res = assign(us); res.status != http.StatusNoContent {
		t.Fatalf("reassign: %d %s", res.status, res.body)
	}
	res = h.do(http.MethodGet, groupEntity(eu)+"/applications", authed(), nil)
	if apps := decodeAs[generated.ApplicationCollection](t, res); len(apps.Value) != 0 {
		t.Errorf("the first group's applications after the move: %s", res.body)
	}
	if res = h.do(http.MethodDelete, groupEntity(eu), authed(), nil); res.status != http.StatusNoContent {
		t.Errorf("delete the first group: %d %s", res.status, res.body)
	}

	unknown := "3e6f4c35-a04b-4d03-b98a-66fff89b72e6"
	assertErrorAt(t, assign(unknown), http.StatusNotFound, "Request_ResourceNotFound", "/@odata.id")
	assertErrorAt(t, h.do(http.MethodGet, groupEntity(unknown)+"/applications", authed(), nil), http.StatusNotFound, "Request_ResourceNotFound", "connectorGroupId")
	res = h.do(http.MethodPut, "/applications/"+app+"/connectorGroup/$ref", jsonHeader(),
		strings.NewReader(`{"@odata.id":"https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/`+unknown+`"}`))
	assertErrorAt(t, res, http.StatusBadRequest, "Request_BadRequest", "/@odata.id")
}
