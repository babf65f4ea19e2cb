package graphsdk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/connector-group/members-api/server/mocktest"
	"github.com/connector-group/members-api/server/store"
)

// The beta SDK's URL templates for the service's own paths, as kiota writes
// them in msgraph-beta-sdk-go's request builders under
// onpremisespublishingprofiles/ (query options the mock refuses left out).
const (
	groupMembersRef = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/{connectorGroup%2Did}/members/$ref"
	groupMembers    = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/{connectorGroup%2Did}/members{?%24top}"
	groupMemberRef  = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/{connectorGroup%2Did}/members/{connector%2Did}/$ref"
	connectorItem   = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectors/{connector%2Did}"
	connectorGroups = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectors/{connector%2Did}/memberOf"
	groupCollection = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups{?%24top}"
	groupItem       = "{+baseurl}/onPremisesPublishingProfiles/{onPremisesPublishingProfile%2Did}/connectorGroups/{connectorGroup%2Did}"
)

// createGroup creates a connector group through the SDK's stack, as the
// beta SDK's ConnectorGroupsRequestBuilder.Post does, and returns its id.
func createGroup(t *testing.T, ctx context.Context, a abstractions.RequestAdapter, name, region string) uuid.UUID {
	t.Helper()
	req := serviceRequest(abstractions.POST, groupCollection, "applicationProxy", uuid.Nil, "")
	if err := req.SetContentFromParsable(ctx, a, "application/json", &ConnectorGroup{Name: &name, Region: &region}); err != nil {
		t.Fatal(err)
	}
	created, err := a.Send(ctx, req, NewConnectorGroup, errorMappings)
	if err != nil {
		t.Fatalf("create the group %s: %v", name, err)
	}
	g := created.(*ConnectorGroup)
	if *g.Name != name || *g.Region != region || *g.IsDefault || *g.ConnectorGroupType != "applicationProxy" {
		t.Fatalf("the created group: %+v", g)
	}
	id, err := uuid.Parse(*g.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("create: POST …/connectorGroups {name: %s, region: %s} → 201, id %s", name, region, id)
	return id
}

// serviceRequest fills a template of the service's paths.
func serviceRequest(method abstractions.HttpMethod, template, profile string, group uuid.UUID, connector string) *abstractions.RequestInformation {
	params := map[string]string{"onPremisesPublishingProfile%2Did": profile, "connectorGroup%2Did": group.String()}
	if connector != "" {
		params["connector%2Did"] = connector
	}
	return abstractions.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(method, template, params)
}

// TestTheServicePaths drives the mock through the SDK's HTTP stack at the
// paths the beta SDK builds: two connector groups created, a connector added to one group with its
// properties, then to another by reference (ReferenceCreate), as the beta
// docs' "Add connector to connectorGroup" shows; the group listed with
// PageIterator; the connector read with the one group it is in (the add
// moved it); a group with a member refused deletion, the reference removed,
// both groups deleted; a reference to an unknown connector and another profile as OData
// errors.
func TestTheServicePaths(t *testing.T) {
	m := mocktest.Start(t, mocktest.WithToken(token))
	ctx := context.Background()
	base := m.URL + "/beta"
	a := adapter(t, graphClient(), base)
	first, second := createGroup(t, ctx, a, "sdk-first", "eur"), createGroup(t, ctx, a, "sdk-second", "nam")
	id := uuid.NewString()

	add := serviceRequest(abstractions.POST, groupMembersRef, "applicationProxy", first, "")
	if err := add.SetContentFromParsable(ctx, a, "application/json",
		&Connector{ID: &id, ExternalIP: str("192.0.2.9"), MachineName: str("sdk-service"), Status: str("active")}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, add, errorMappings); err != nil {
		t.Fatalf("add with the connector's properties: %v", err)
	}
	ref := serviceRequest(abstractions.POST, groupMembersRef, "applicationProxy", second, "")
	odataID := "https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/" + id
	if err := ref.SetContentFromParsable(ctx, a, "application/json", &ReferenceCreate{OdataID: &odataID}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, ref, errorMappings); err != nil {
		t.Fatalf("add by reference: %v", err)
	}
	adds := m.Requests(mocktest.Operation("addGroupMember"))
	if len(adds) != 2 || adds[0].Status != 204 || adds[0].Headers["Content-Encoding"] != "gzip" {
		t.Fatalf("the adds as the mock saw them: %+v", adds)
	}
	for i := len(adds) - 1; i >= 0; i-- {
		t.Logf("add: POST %s (%s) → %d", adds[i].Path, adds[i].Body, adds[i].Status)
	}

	list := serviceRequest(abstractions.GET, groupMembers, "applicationProxy", second, "")
	list.QueryParametersAny["%24top"] = 1
	page, err := a.Send(ctx, list, NewConnectorCollection, errorMappings)
	if err != nil {
		t.Fatal(err)
	}
	pages, err := msgraphgocore.NewPageIterator[*Connector](page, a, NewConnectorCollection)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	if err := pages.Iterate(ctx, func(c *Connector) bool { listed = append(listed, *c.MachineName); return true }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(listed, ",") != "sdk-service" {
		t.Fatalf("the second group lists %v", listed)
	}
	t.Logf("list: GET …/connectorGroups/%s/members → %v", second, listed)

	got, err := a.Send(ctx, serviceRequest(abstractions.GET, connectorItem, "applicationProxy", uuid.Nil, id), NewConnector, errorMappings)
	if err != nil || *got.(*Connector).MachineName != "sdk-service" {
		t.Fatalf("read the connector: %v, %v", got, err)
	}
	groups, err := a.Send(ctx, serviceRequest(abstractions.GET, connectorGroups, "applicationProxy", uuid.Nil, id), NewConnectorGroupCollection, errorMappings)
	if err != nil {
		t.Fatal(err)
	}
	// A connector is in one group: the add by reference moved it from the first to the second.
	in := groups.(*ConnectorGroupCollection).GetValue()
	if len(in) != 1 || *in[0].ID != second.String() {
		t.Fatalf("memberOf: %v", in)
	}
	t.Logf("read: GET …/connectors/%s → %s, memberOf → %s (moved there by the add)", id, *got.(*Connector).MachineName, *in[0].Name)

	var oe *ODataError
	err = a.SendNoContent(ctx, serviceRequest(abstractions.DELETE, groupItem, "applicationProxy", second, ""), errorMappings)
	if !errors.As(err, &oe) || oe.GetStatusCode() != 400 {
		t.Fatalf("delete a group with a member: %v, want the OData 400", err)
	}
	t.Logf("delete the group with the connector: %v", oe)
	if err := a.SendNoContent(ctx, serviceRequest(abstractions.DELETE, groupMemberRef, "applicationProxy", second, id), errorMappings); err != nil {
		t.Fatalf("remove the reference: %v", err)
	}
	t.Log("remove: DELETE …/members/{id}/$ref → 204 (the connector is back in the default group)")
	for _, g := range []uuid.UUID{first, second} {
		if err := a.SendNoContent(ctx, serviceRequest(abstractions.DELETE, groupItem, "applicationProxy", g, ""), errorMappings); err != nil {
			t.Fatalf("delete the emptied group %s: %v", g, err)
		}
	}
	all, err := a.Send(ctx, serviceRequest(abstractions.GET, groupCollection, "applicationProxy", uuid.Nil, ""), NewConnectorGroupCollection, errorMappings)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range all.(*ConnectorGroupCollection).GetValue() {
		names = append(names, *g.Name)
	}
	if strings.Join(names, ",") != "Default" {
		t.Fatalf("the groups: %v", names)
	}
	groups, err = a.Send(ctx, serviceRequest(abstractions.GET, connectorGroups, "applicationProxy", uuid.Nil, id), NewConnectorGroupCollection, errorMappings)
	if in = groups.(*ConnectorGroupCollection).GetValue(); err != nil || len(in) != 1 || !*in[0].IsDefault {
		t.Fatalf("memberOf after the removal: %v, %v", in, err)
	}
	t.Logf("delete both emptied groups → 204; list: GET …/connectorGroups → %v; memberOf → %s", names, *in[0].Name)

	unknown := "https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/" + uuid.NewString()
	ref = serviceRequest(abstractions.POST, groupMembersRef, "applicationProxy", store.DefaultGroupID, "")
	if err := ref.SetContentFromParsable(ctx, a, "application/json", &ReferenceCreate{OdataID: &unknown}); err != nil {
		t.Fatal(err)
	}
	if err := a.SendNoContent(ctx, ref, errorMappings); !errors.As(err, &oe) || oe.GetStatusCode() != 404 || oe.Code != "Request_ResourceNotFound" ||
		!strings.Contains(oe.Message, unknown[len(unknown)-36:]) {
		t.Fatalf("a reference to an unknown connector: %v, want the OData 404", err)
	}
	t.Logf("unknown connector: %v", oe)
	_, err = a.Send(ctx, serviceRequest(abstractions.GET, connectorItem, "provisioning", uuid.Nil, id), NewConnector, errorMappings)
	if !errors.As(err, &oe) || oe.GetStatusCode() != 404 {
		t.Fatalf("another profile: %v, want the OData 404", err)
	}
	t.Logf("another profile: %v", oe)
}
