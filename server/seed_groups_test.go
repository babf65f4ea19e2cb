package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// TestSeedFileHoldsGroupsAndAssignments: a seed file's connector groups are
// created with their members, an application is assigned to one and its
// members join it, a connector two groups list ends in the last, and the
// same file seeded again into the state file changes nothing.
func TestSeedFileHoldsGroupsAndAssignments(t *testing.T) {
	ctx := context.Background()
	const eu, us, app = "e0000000-0000-4000-8000-0000000000e0", "a0000000-0000-4000-8000-0000000000a0", "0f8fad5b-d9cb-469f-a165-70867728950e"
	const shared = "33333333-3333-4333-8333-333333333333"
	ref := func(id string) string {
		return `{'@odata.id': 'https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/` + id + `'}`
	}
	file := writeSeed(t, "groups.yaml", `connectors:
  - {id: `+shared+`, externalIp: 198.51.100.3, machineName: shared, status: active}
connectorGroups:
  - id: `+eu+`
    name: eu-connectors
    region: eur
    members:
      - {externalIp: 198.51.100.4, machineName: eu-1, status: active}
      - `+ref(shared)+`
  - id: `+us+`
    name: us-connectors
    members: [`+ref(shared)+`]
  - name: no-id-given
applications:
  - id: `+app+`
    connectorGroup: `+eu+`
    members:
      - {externalIp: 198.51.100.5, machineName: app-1, status: inactive}
`)
	path := filepath.Join(t.TempDir(), "state.db")
	durable, err := store.OpenDurable(path)
	if err != nil {
		t.Fatal(err)
	}
	want := server.SeedResult{Registered: 1, Groups: 3, Assigned: 1, Added: 4}
	// The group without an id gets one derived from its name.
	if got, err := server.Seed(ctx, durable, file); err != nil || got != want {
		t.Fatalf("seeding: %+v, %v; want %+v", got, err, want)
	}
	_ = durable.Close()
	if durable, err = store.OpenDurable(path); err != nil {
		t.Fatal(err)
	}
	defer durable.Close()

	names := func(group string) []string {
		page, err := durable.List(ctx, uuid.MustParse(group), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range page.Members {
			out = append(out, m.MachineName)
		}
		return out
	}
	if got := strings.Join(names(eu), ","); got != "eu-1,app-1" {
		t.Errorf("eu's members after reopening: %s (the application's member joins its assigned group)", got)
	}
	if got := strings.Join(names(us), ","); got != "shared" {
		t.Errorf("us's members: %s (a connector two groups list is in the last)", got)
	}
	if g, err := durable.ApplicationGroup(ctx, uuid.MustParse(app)); err != nil || g.String() != eu {
		t.Errorf("the application's group: %s, %v", g, err)
	}
	if g, err := durable.Group(ctx, uuid.MustParse(eu)); err != nil || g.Name != "eu-connectors" || g.Region == nil || *g.Region != "eur" {
		t.Errorf("the eu group: %+v, %v", g, err)
	}
	// Seeded again, the groups and members are there already; the shared
	// connector moves to eu and back to us as the file says (two adds), and
	// the state ends as it was.
	again := server.SeedResult{Registered: 1, Assigned: 1, Added: 2, AlreadyThere: 5}
	if got, err := server.Seed(ctx, durable, file); err != nil || got != again {
		t.Errorf("seeding again: %+v, %v; want %+v", got, err, again)
	}
	if eus, uss := strings.Join(names(eu), ","), strings.Join(names(us), ","); eus != "eu-1,app-1" || uss != "shared" {
		t.Errorf("after seeding again: eu %s, us %s", eus, uss)
	}

	// A group is checked as the API checks a create; an assignment needs its group.
	for body, want := range map[string]string{
		"connectorGroups: [{name: x, isDefault: true}]":                               "connectorGroups[0]: /isDefault:",
		"connectorGroups: [{name: x, region: mars}]":                                  `connectorGroups[0]: /region: value "mars" is not one of`,
		"connectorGroups: [{id: nope, name: x}]":                                      `connectorGroups[0]: id "nope" is not a GUID`,
		"applications: [{id: " + app + ", connectorGroup: " + uuid.NewString() + "}]": "names a connector group neither the store nor the file holds",
	} {
		_, err := server.Seed(ctx, store.NewMemory(), writeSeed(t, "bad.yaml", body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want …%s…", body, err, want)
		}
	}
}
