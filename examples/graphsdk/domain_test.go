package graphsdk

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"

	"github.com/connector-group/members-api/server/mocktest"
	"github.com/connector-group/members-api/server/store"
)

// The beta SDK's URL templates with the OData options its request builders
// take (kiota writes every option of the operation, in this order; those
// not set are left out of the URL), and the application's connectorGroup
// reference (applications/item/connectorgroup/ref in msgraph-beta-sdk-go).
const (
	groupsQuery         = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}"
	groupsCount         = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/$count{?%24filter,%24search}"
	groupMembersQuery   = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/{connectorGroup%2Did}/members{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}"
	groupApplications   = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/{connectorGroup%2Did}/applications{?%24count,%24expand,%24filter,%24orderby,%24search,%24select,%24skip,%24top}"
	applicationGroupRef = "{+baseurl}/applications/{application%2Did}/connectorGroup/$ref"
)

// TestTheDomainScript is an Application Proxy script through the SDK's HTTP
// stack: create a group, move a connector into it, assign an application,
// list with $select, $filter, $orderby and $count, count with /$count, and
// delete the group once emptied.
func TestTheDomainScript(t *testing.T) {
	m := mocktest.Start(t, mocktest.WithToken(token))
	ctx := context.Background()
	a := adapter(t, graphClient(), m.URL+"/beta")
	group := createGroup(t, ctx, a, "eu-script", "eur")
	createGroup(t, ctx, a, "us-script", "nam")

	// A connector the agent registered in the default group, then moved.
	id := uuid.NewString()
	add := serviceRequest(abstractions.POST, groupMembersRef, "applicationProxy", store.DefaultGroupID, "")
	if err := add.SetContentFromParsable(ctx, a, "application/json",
		&Connector{ID: &id, ExternalIP: str("192.0.2.10"), MachineName: str("eu-agent-1"), Status: str("active")}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, add, errorMappings); err != nil {
		t.Fatalf("register in the default group: %v", err)
	}
	move := serviceRequest(abstractions.POST, groupMembersRef, "applicationProxy", group, "")
	connectorURL := "https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/" + id
	if err := move.SetContentFromParsable(ctx, a, "application/json", &ReferenceCreate{OdataID: &connectorURL}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, move, errorMappings); err != nil {
		t.Fatalf("move: %v", err)
	}
	t.Logf("move: POST …/connectorGroups/%s/members/$ref → 204", group)

	app := uuid.New()
	assign := request(abstractions.PUT, applicationGroupRef, app, "")
	groupURL := "https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectorGroups/" + group.String()
	if err := assign.SetContentFromParsable(ctx, a, "application/json", &ReferenceCreate{OdataID: &groupURL}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, assign, errorMappings); err != nil {
		t.Fatalf("assign: %v", err)
	}
	apps, err := a.Send(ctx, serviceRequest(abstractions.GET, groupApplications, "applicationProxy", group, ""), NewConnectorGroupCollection, errorMappings)
	if err != nil || len(apps.(*ConnectorGroupCollection).GetValue()) != 1 || *apps.(*ConnectorGroupCollection).GetValue()[0].ID != app.String() {
		t.Fatalf("the group's applications: %v, %v", apps, err)
	}
	t.Logf("assign: PUT /applications/%s/connectorGroup/$ref → 204; …/connectorGroups/%s/applications lists it", app, group)

	// Queries, as the request builders' query parameters send them.
	list := serviceRequest(abstractions.GET, groupsQuery, "applicationProxy", uuid.Nil, "")
	list.QueryParametersAny["%24filter"] = "isDefault eq false and region in ('eur','aus')"
	list.QueryParametersAny["%24select"] = []string{"id", "name", "region"}
	list.QueryParametersAny["%24orderby"] = []string{"name desc"}
	list.QueryParametersAny["%24count"] = true
	page, err := a.Send(ctx, list, NewConnectorGroupCollection, errorMappings)
	if err != nil {
		t.Fatal(err)
	}
	groups := page.(*ConnectorGroupCollection)
	if c := groups.GetOdataCount(); c == nil || *c != 1 || len(groups.GetValue()) != 1 || *groups.GetValue()[0].Name != "eu-script" ||
		groups.GetValue()[0].IsDefault != nil || groups.GetValue()[0].ConnectorGroupType != nil {
		t.Fatalf("filtered, selected, counted: %+v", groups)
	}
	u, _ := list.GetUri() // the adapter has set the base URL on it
	t.Logf("query: GET %s → @odata.count %d, %s (only id, name, region)", u.RequestURI(), *groups.GetOdataCount(), *groups.GetValue()[0].Name)

	members := serviceRequest(abstractions.GET, groupMembersQuery, "applicationProxy", group, "")
	members.QueryParametersAny["%24select"] = []string{"machineName"}
	members.QueryParametersAny["%24filter"] = "startswith(machineName,'eu-')"
	page, err = a.Send(ctx, members, NewConnectorCollection, errorMappings)
	if err != nil {
		t.Fatal(err)
	}
	if v := page.(*ConnectorCollection).GetValue(); len(v) != 1 || *v[0].MachineName != "eu-agent-1" || v[0].Status != nil {
		t.Fatalf("the group's members, selected: %+v", v)
	}

	count := serviceRequest(abstractions.GET, groupsCount, "applicationProxy", uuid.Nil, "")
	count.QueryParametersAny["%24filter"] = "startswith(name,'us-') or isDefault eq true"
	count.Headers.Add("Accept", "text/plain;q=0.9")
	n, err := a.SendPrimitive(ctx, count, "int32", errorMappings)
	if err != nil || *n.(*int32) != 2 {
		t.Fatalf("/$count: %v, %v", n, err)
	}
	t.Logf("count: GET …/connectorGroups/$count?$filter=… → %d", *n.(*int32))

	var oe *ODataError
	bad := serviceRequest(abstractions.GET, groupsQuery, "applicationProxy", uuid.Nil, "")
	bad.QueryParametersAny["%24filter"] = "displayName eq 'x'"
	if _, err := a.Send(ctx, bad, NewConnectorGroupCollection, errorMappings); !errors.As(err, &oe) || oe.GetStatusCode() != 400 ||
		oe.Message != "Could not find a property named 'displayName' on type 'microsoft.graph.connectorGroup'." {
		t.Fatalf("an unknown property: %v", err)
	}
	t.Logf("an unknown property: %v", oe)

	// Deleted once emptied: the connector back to the default group, the
	// application assigned elsewhere.
	if err := a.SendNoContent(ctx, serviceRequest(abstractions.DELETE, groupItem, "applicationProxy", group, ""), errorMappings); !errors.As(err, &oe) || oe.GetStatusCode() != 400 {
		t.Fatalf("delete with a member: %v", err)
	}
	t.Logf("delete while it has a member: %v", oe)
	if err := a.SendNoContent(ctx, serviceRequest(abstractions.DELETE, groupMemberRef, "applicationProxy", group, id), errorMappings); err != nil {
		t.Fatal(err)
	}
	defaultURL := "https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectorGroups/" + store.DefaultGroupID.String()
	assign = request(abstractions.PUT, applicationGroupRef, app, "")
	if err := assign.SetContentFromParsable(ctx, a, "application/json", &ReferenceCreate{OdataID: &defaultURL}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, assign, errorMappings); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, serviceRequest(abstractions.DELETE, groupItem, "applicationProxy", group, ""), errorMappings); err != nil {
		t.Fatalf("delete the emptied group: %v", err)
	}
	t.Log("delete: the connector removed, the application moved, DELETE …/connectorGroups/{id} → 204")
	for _, r := range m.Requests() {
		if r.Status >= 500 {
			t.Errorf("the mock answered %d to %s %s", r.Status, r.Method, r.Path)
		}
	}
}
