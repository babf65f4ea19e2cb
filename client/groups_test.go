package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// TestGroupDomain walks an Application Proxy script with the client against
// the mock on a real port, every answer checked against the spec: create a
// group, move a connector into it, assign an application, query, refuse the
// delete while the group has members, delete it.
func TestGroupDomain(t *testing.T) {
	ctx := context.Background()
	c, _, _ := start(t, server.Config{}, client.WithToken("t"))
	eur := generated.ConnectorGroupRegionEur
	g, err := c.CreateGroup(ctx, client.NewGroup{Name: "eu-connectors", Region: &eur})
	if err != nil || g.Name != "eu-connectors" || *g.Region != eur || g.IsDefault {
		t.Fatalf("create: %+v, %v", g, err)
	}
	name := "eu-connectors-2"
	if err := c.UpdateGroup(ctx, g.ID, client.GroupChanges{Name: &name}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if got, err := c.GetGroup(ctx, g.ID); err != nil || got.Name != name {
		t.Fatalf("get after update: %+v, %v", got, err)
	}

	// A connector registered at the seed page's path, then moved.
	app := uuid.New()
	m, err := c.AddMember(ctx, app, connector("eu-01"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MoveConnector(ctx, g.ID, m.ID); err != nil {
		t.Fatalf("move: %v", err)
	}
	var members []string
	for page, err := range c.ListGroupMemberPages(ctx, g.ID) {
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			members = append(members, m.MachineName)
		}
	}
	if !slices.Equal(members, []string{"eu-01"}) {
		t.Errorf("the group's members after the move: %q", members)
	}
	for m, err := range c.ListMembers(ctx, app) {
		t.Errorf("the old group still lists %+v (%v)", m, err)
	}

	if err := c.AssignApplication(ctx, app, g.ID); err != nil {
		t.Fatalf("assign: %v", err)
	}
	if got, err := c.ApplicationGroup(ctx, app); err != nil || got.ID != g.ID {
		t.Errorf("the application's group: %+v, %v", got, err)
	}

	// Queries: the groups by filter with their count; members with $select.
	var count int64 = -1
	var names []string
	for g, err := range c.ListGroups(ctx, client.Filter("isDefault eq false and startswith(name,'eu-')"), client.Count(&count), client.OrderBy("name desc")) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, g.Name)
	}
	if count != 1 || !slices.Equal(names, []string{name}) {
		t.Errorf("filtered groups: %q, count %d", names, count)
	}
	for m, err := range c.ListMembers(ctx, app, client.Select("machineName")) {
		// The id comes too: a Member has one.
		if err != nil || m.ID == uuid.Nil || m.MachineName != "eu-01" || m.ExternalIP != "" {
			t.Errorf("selected member: %+v, %v", m, err)
		}
	}
	for _, err := range c.ListConnectors(ctx, client.Filter("status eq 'unknown'")) {
		var ae *client.APIError
		if !errors.As(err, &ae) || !errors.Is(err, client.ErrInvalidRequest) || ae.Target != "$filter" {
			t.Errorf("a bad $filter: %v", err)
		}
	}

	// A group with members is not deleted; emptied, it is.
	err = c.DeleteGroup(ctx, g.ID)
	if !errors.Is(err, client.ErrInvalidRequest) {
		t.Fatalf("delete with members: %v", err)
	}
	if err := c.MoveConnector(ctx, uuid.MustParse("d3f0a17e-0000-4000-8000-00000000d3f0"), m.ID); err != nil {
		t.Fatalf("moving back to the default group: %v", err)
	}
	if err := c.AssignApplication(ctx, app, uuid.MustParse("d3f0a17e-0000-4000-8000-00000000d3f0")); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.GetGroup(ctx, g.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("the deleted group: %v", err)
	}
}

// TestCreateIsNotRepeatedWhenItMayHaveBeenMade: a create is retried after a
// 503 (the server did nothing), never after a 504 (it may have made the
// group); a delete whose retry finds the group gone succeeded.
func TestCreateIsNotRepeatedWhenItMayHaveBeenMade(t *testing.T) {
	created := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"@odata.type":"#microsoft.graph.connectorGroup","id":"5a2d1c9e-7f4a-4e1b-8c2d-6a5f4e3d2c1b","name":"g","connectorGroupType":"applicationProxy","isDefault":false}`))
	}
	w := newWaits()
	c, s := newScripted(t, []client.Option{w.option()}, envelope(503, "ServiceUnavailable", "1"), created)
	if _, err := c.CreateGroup(context.Background(), client.NewGroup{Name: "g"}); err != nil || len(s.got()) != 2 {
		t.Errorf("after a 503: %v, %d attempts; want success on the second", err, len(s.got()))
	}
	c, s = newScripted(t, []client.Option{w.option()}, envelope(504, "GatewayTimeout", ""), created)
	var ae *client.APIError
	if _, err := c.CreateGroup(context.Background(), client.NewGroup{Name: "g"}); !errors.As(err, &ae) || ae.StatusCode != 504 || len(s.got()) != 1 {
		t.Errorf("after a 504: %v, %d attempts; want the 504 and one attempt", err, len(s.got()))
	}
	gone := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"Request_ResourceNotFound","message":"gone","innerError":{"date":"2026-12-04T08:00:00Z","request-id":"5c7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b"}}}`))
	}
	c, s = newScripted(t, []client.Option{w.option()}, envelope(504, "GatewayTimeout", ""), gone)
	if err := c.DeleteGroup(context.Background(), uuid.New()); err != nil || len(s.got()) != 2 {
		t.Errorf("a delete whose retry finds the group gone: %v, %d attempts", err, len(s.got()))
	}
	c, _ = newScripted(t, []client.Option{w.option()}, gone)
	if err := c.DeleteGroup(context.Background(), uuid.New()); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a delete of a group never there: %v, want ErrNotFound", err)
	}
}
