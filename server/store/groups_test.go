package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server/store"
)

func groupNames(t *testing.T, s store.Store) []string {
	t.Helper()
	page, err := s.Groups(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range page.Groups {
		names = append(names, string(g.Name))
	}
	return names
}

// TestConnectorGroups: groups are entities, created, renamed and deleted by
// the store's one set of rules, kept across a restart of a durable store;
// the default group is there from the start and cannot be deleted; a group
// with members cannot be deleted nor change its region; an add at the
// service's paths needs the group, one at the seed page's path makes it.
func TestConnectorGroups(t *testing.T) {
	ctx := context.Background()
	eur, nam := generated.ConnectorGroupRegion("eur"), generated.ConnectorGroupRegion("nam")
	for _, kind := range stores {
		t.Run(kind.name, func(t *testing.T) {
			s, reopen := kind.open(t)
			if got := groupNames(t, s); !slices.Equal(got, []string{"Default"}) {
				t.Fatalf("a new store's groups %q, want the default group only", got)
			}
			def, err := s.Group(ctx, store.DefaultGroupID)
			if err != nil || !def.IsDefault || def.ConnectorGroupType != "applicationProxy" || def.ID != store.DefaultGroupID {
				t.Fatalf("the default group %+v, %v", def, err)
			}
			eu, app := uuid.New(), uuid.New()
			do := func(op store.Op) error { _, err := s.Do(ctx, op); return err }
			if err := do(store.Op{Kind: store.OpCreateGroup, Group: eu, GroupDoc: generated.ConnectorGroupCreate{Name: "eu", Region: &eur}}); err != nil {
				t.Fatal(err)
			}
			if err := do(store.Op{Kind: store.OpCreateGroup, Group: eu, GroupDoc: generated.ConnectorGroupCreate{Name: "again"}}); !errors.Is(err, store.ErrGroupExists) {
				t.Errorf("creating it twice: %v, want ErrGroupExists", err)
			}
			m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "m", Status: "active"}}
			if err := do(store.Op{Kind: store.OpAdd, Group: uuid.New(), Member: m, RequireGroup: true}); !errors.Is(err, store.ErrGroupNotFound) {
				t.Errorf("an add to an unknown group at the service's paths: %v, want ErrGroupNotFound", err)
			}
			if err := do(store.Op{Kind: store.OpAdd, Group: eu, Member: m, RequireGroup: true}); err != nil {
				t.Fatal(err)
			}
			m2 := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.2", MachineName: "m2", Status: "active"}}
			if err := s.Add(ctx, app, m2); err != nil { // the seed page's path: made on first use
				t.Fatal(err)
			}
			if err := do(store.Op{Kind: store.OpUpdateGroup, Group: eu, GroupPatch: generated.ConnectorGroupUpdate{Region: &nam}}); !errors.Is(err, store.ErrRegionLocked) {
				t.Errorf("a new region for a group with members: %v, want ErrRegionLocked", err)
			}
			name := generated.ConnectorGroupName("eu-renamed")
			if err := do(store.Op{Kind: store.OpUpdateGroup, Group: eu, GroupPatch: generated.ConnectorGroupUpdate{Name: &name, Region: &eur}}); err != nil {
				t.Errorf("a new name, the same region: %v", err)
			}
			if err := do(store.Op{Kind: store.OpDeleteGroup, Group: eu}); !errors.Is(err, store.ErrGroupNotEmpty) {
				t.Errorf("deleting a group with members: %v, want ErrGroupNotEmpty", err)
			}
			if err := do(store.Op{Kind: store.OpDeleteGroup, Group: store.DefaultGroupID}); !errors.Is(err, store.ErrDefaultGroup) {
				t.Errorf("deleting the default group: %v, want ErrDefaultGroup", err)
			}
			// An application assigned to eu: eu keeps it across a restart.
			assignedApp := uuid.New()
			if err := do(store.Op{Kind: store.OpAssign, Group: uuid.New(), Member: store.Member{ID: assignedApp}}); !errors.Is(err, store.ErrGroupNotFound) {
				t.Errorf("assigning to an unknown group: %v, want ErrGroupNotFound", err)
			}
			if err := do(store.Op{Kind: store.OpAssign, Group: eu, Member: store.Member{ID: assignedApp}}); err != nil {
				t.Fatal(err)
			}
			want := []string{"Default", "eu-renamed", app.String()}
			s = reopen()
			if g, err := s.ApplicationGroup(ctx, assignedApp); err != nil || g != eu {
				t.Errorf("the assigned application's group after a restart: %s, %v", g, err)
			}
			if page, err := s.GroupApplications(ctx, eu, 0, 10); err != nil || len(page.Applications) != 1 || page.Applications[0] != assignedApp {
				t.Errorf("eu's applications after a restart: %+v, %v", page, err)
			}
			// An add and a reset by the application reach the group it is assigned to.
			m3 := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.3", MachineName: "m3", Status: "active"}}
			if err := do(store.Op{Kind: store.OpAdd, Group: assignedApp, Member: m3, ViaApplication: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, eu, m3.ID); err != nil {
				t.Errorf("an add by the assigned application did not reach its group: %v", err)
			}
			if err := s.Reset(ctx, &assignedApp); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, eu, m3.ID); !errors.Is(err, store.ErrMemberNotFound) {
				t.Errorf("a reset by the assigned application left its group's member: %v", err)
			}
			if err := do(store.Op{Kind: store.OpAssign, Group: store.DefaultGroupID, Member: store.Member{ID: assignedApp}}); err != nil {
				t.Fatal(err)
			}
			if got := groupNames(t, s); !slices.Equal(got, want) {
				t.Errorf("groups %q, want %q", got, want)
			}
			if g, err := s.Group(ctx, eu); err != nil || g.Region == nil || *g.Region != eur || g.ID != eu {
				t.Errorf("the group after the update: %+v, %v", g, err)
			}
			// The reset moved eu's members (m too) to the default group.
			if _, err := s.Get(ctx, store.DefaultGroupID, m.ID); err != nil {
				t.Errorf("m after the reset of its group: %v, want it in the default group", err)
			}
			if err := do(store.Op{Kind: store.OpDeleteGroup, Group: eu}); err != nil {
				t.Errorf("deleting the emptied group: %v", err)
			}
			if err := do(store.Op{Kind: store.OpDeleteGroup, Group: eu}); !errors.Is(err, store.ErrGroupNotFound) {
				t.Errorf("deleting it again: %v, want ErrGroupNotFound", err)
			}
			s = reopen()
			if got := groupNames(t, s); !slices.Equal(got, []string{"Default", app.String()}) {
				t.Errorf("groups after the delete %q", got)
			}
			if err := s.Reset(ctx, nil); err != nil {
				t.Fatal(err)
			}
			s = reopen()
			if got := groupNames(t, s); !slices.Equal(got, []string{"Default"}) {
				t.Errorf("groups after a reset %q, want the default group only", got)
			}
		})
	}
}

// TestStateFileOfFormat3Loads: a file written before groups were entities
// (format 3, as this build's predecessor wrote it) loads with a group for
// every group that has members, named by its id, and the default group; the
// connector that was in both groups stays in the one it joined last.
func TestStateFileOfFormat3Loads(t *testing.T) {
	path := fixtureCopy(t, "testdata/state-format-3.db")
	a := uuid.MustParse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
	b := uuid.MustParse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
	for round := range 2 { // as written, then as upgraded
		s := openDurable(t, path)
		if got, want := groupNames(t, s), []string{"Default", a.String(), b.String()}; !slices.Equal(got, want) {
			t.Errorf("round %d: groups %q, want %q", round, got, want)
		}
		page, err := s.List(context.Background(), b, 0, 10)
		if err != nil || len(page.Members) != 1 {
			t.Errorf("round %d: group b holds %+v, %v", round, page.Members, err)
		}
		if page, err := s.List(context.Background(), a, 0, 10); err != nil || len(page.Members) != 0 {
			t.Errorf("round %d: group a holds %+v, %v", round, page.Members, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
