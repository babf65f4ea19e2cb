package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server/store"
)

// stores opens each kind of store for a test; a durable one is closed at
// the end and may be reopened with reopen.
var stores = []struct {
	name string
	open func(t *testing.T) (s store.Store, reopen func() store.Store)
}{
	{"memory", func(*testing.T) (store.Store, func() store.Store) {
		s := store.NewMemory()
		return s, func() store.Store { return s }
	}},
	{"durable", func(t *testing.T) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "state.db")
		s := openDurable(t, path)
		t.Cleanup(func() { s.Close() })
		return s, func() store.Store {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openDurable(t, path)
			return s
		}
	}},
}

// connectorIDs lists every connector the store knows, limit a page.
func connectorIDs(t *testing.T, s store.Store, limit int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	var after store.Cursor
	for {
		page, err := s.Connectors(context.Background(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Members {
			ids = append(ids, m.ID)
		}
		if !page.More {
			return ids
		}
		after = page.Next
	}
}

// groupsOf lists every group connector id is in, limit a page.
func groupsOf(t *testing.T, s store.Store, id uuid.UUID, limit int) []uuid.UUID {
	t.Helper()
	var groups []uuid.UUID
	var after store.Cursor
	for {
		page, err := s.MemberOf(context.Background(), id, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, page.Groups...)
		if !page.More {
			return groups
		}
		after = page.Next
	}
}

func TestConnectorsAreEntitiesAndGroupsHoldReferences(t *testing.T) {
	for _, kind := range stores {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			s, reopen := kind.open(t)
			a, b, c := uuid.New(), uuid.New(), uuid.New()
			x := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "x", Status: "active"}}
			y := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.2", MachineName: "y", Status: "active"}}
			moved := store.Member{ID: x.ID, Connector: generated.Connector{ExternalIP: "2001:db8::1", MachineName: "x-moved-to-a-longer-name", Status: "inactive"}}
			for _, step := range []struct {
				app uuid.UUID
				m   store.Member
			}{{a, x}, {a, y}, {b, moved}} {
				if err := s.Add(ctx, step.app, step.m); err != nil {
					t.Fatal(err)
				}
			}
			// A connector is in one group: the add to b moved x out of a, and
			// the body form updated its properties.
			if _, err := s.Get(ctx, a, x.ID); !errors.Is(err, store.ErrMemberNotFound) {
				t.Errorf("x is still a member of a after its add to b: %v", err)
			}
			if got, err := s.Get(ctx, b, x.ID); err != nil || got != moved {
				t.Errorf("member x of b = %+v, %v; want %+v", got, err, moved)
			}
			// A duplicate changes nothing, not even the properties.
			if err := s.Add(ctx, b, x); !errors.Is(err, store.ErrDuplicateMember) {
				t.Errorf("adding x to b again: %v, want ErrDuplicateMember", err)
			}
			if got, _ := s.Connector(ctx, x.ID); got != moved {
				t.Errorf("after a refused duplicate, x = %+v, want %+v", got, moved)
			}
			// By reference: a known connector joins as it is; an unknown one is refused.
			if got, err := s.AddReference(ctx, c, y.ID); err != nil || got != y {
				t.Errorf("AddReference(c, y) = %+v, %v; want %+v", got, err, y)
			}
			if _, err := s.AddReference(ctx, c, y.ID); !errors.Is(err, store.ErrDuplicateMember) {
				t.Errorf("AddReference(c, y) again: %v, want ErrDuplicateMember", err)
			}
			if _, err := s.AddReference(ctx, c, uuid.New()); !errors.Is(err, store.ErrConnectorNotFound) {
				t.Errorf("AddReference of an unknown connector: %v, want ErrConnectorNotFound", err)
			}
			if _, err := s.Connector(ctx, uuid.New()); !errors.Is(err, store.ErrConnectorNotFound) {
				t.Errorf("Connector of an unknown id: %v, want ErrConnectorNotFound", err)
			}
			if _, err := s.MemberOf(ctx, uuid.New(), 0, 10); !errors.Is(err, store.ErrConnectorNotFound) {
				t.Errorf("MemberOf an unknown connector: %v, want ErrConnectorNotFound", err)
			}
			// Removed from its group, a connector is in the default group;
			// it leaves that one only by being added to another.
			if err := s.Remove(ctx, a, y.ID); !errors.Is(err, store.ErrMemberNotFound) {
				t.Errorf("removing y from a, which it left for c: %v, want ErrMemberNotFound", err)
			}
			if err := s.Remove(ctx, c, y.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Remove(ctx, store.DefaultGroupID, y.ID); !errors.Is(err, store.ErrInDefaultGroup) {
				t.Errorf("removing y from the default group: %v, want ErrInDefaultGroup", err)
			}
			if err := s.Reset(ctx, &c); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Connector(ctx, y.ID); err != nil || got != y {
				t.Errorf("y after leaving its group = %+v, %v", got, err)
			}

			for _, s := range []store.Store{s, reopen()} {
				if got, want := connectorIDs(t, s, 1), []uuid.UUID{x.ID, y.ID}; !slices.Equal(got, want) {
					t.Errorf("connectors %v, want %v (in the order they became known)", got, want)
				}
				if got, want := groupsOf(t, s, x.ID, 1), []uuid.UUID{b}; !slices.Equal(got, want) {
					t.Errorf("x is a member of %v, want %v", got, want)
				}
				if got, want := groupsOf(t, s, y.ID, 10), []uuid.UUID{store.DefaultGroupID}; !slices.Equal(got, want) {
					t.Errorf("y is a member of %v, want %v", got, want)
				}
				if got, err := s.Get(ctx, b, x.ID); err != nil || got != moved {
					t.Errorf("member x of b = %+v, %v", got, err)
				}
				if got := s.Members(); got != 2 {
					t.Errorf("Members() = %d, want 2", got)
				}
			}
			s = reopen()
			if err := s.Reset(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if got := connectorIDs(t, reopen(), 10); len(got) != 0 {
				t.Errorf("after resetting everything the store knows %v", got)
			}
		})
	}
}

// TestConnectorUpdatesKeepMemoryBounded updates one connector with ever
// longer and shorter strings: the registry's strings are compacted, and every
// read sees the latest.
func TestConnectorUpdatesKeepMemoryBounded(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	keep := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.7", MachineName: "kept", Status: "active"}}
	if err := s.Add(ctx, uuid.New(), keep); err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	for i := range 5000 {
		m := store.Member{ID: id, Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: strings.Repeat("n", 1+i%255), Status: "active"}}
		if err := s.Add(ctx, uuid.New(), m); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Connector(ctx, id); got != m {
			t.Fatalf("after update %d: %+v", i, got)
		}
	}
	if got, _ := s.Connector(ctx, keep.ID); got != keep {
		t.Errorf("a connector nobody updated reads %+v, want %+v", got, keep)
	}
}

// TestStateFileOfFormat1Loads opens a state file written by connector-mock
// before connectors were entities (testdata/state-format-1.db, written by
// the build of commit 8461573 with `--state`): in group 0f8fad5b… three adds
// (11111111…, 22222222…, 33333333…), in group 7c9e6679… 44444444… and then
// 22222222… again with other properties, then 33333333… removed. Every member
// loads, in order, under the one-group rule: 22222222…, in both groups, stays
// in the one it joined last, with the properties added last (33333333…, a
// member removed, was no connector of its own in format 1); the file is
// upgraded and reads the same once more.
func TestStateFileOfFormat1Loads(t *testing.T) {
	ctx := context.Background()
	path := fixtureCopy(t, "testdata/state-format-1.db")
	a := uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")
	b := uuid.MustParse("7c9e6679-7425-40de-944b-e07fc1f90ae7")
	c1 := store.Member{ID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), Connector: generated.Connector{ExternalIP: "203.0.113.1", MachineName: "eu-01", Status: "active"}}
	c2 := store.Member{ID: uuid.MustParse("22222222-2222-4222-8222-222222222222"), Connector: generated.Connector{ExternalIP: "198.51.100.2", MachineName: "eu-02-moved", Status: "inactive"}}
	c4 := store.Member{ID: uuid.MustParse("44444444-4444-4444-8444-444444444444"), Connector: generated.Connector{ExternalIP: "2001:db8::4", MachineName: "us-04", Status: "active"}}
	for round := range 2 { // as written by the old build, then as upgraded
		s := openDurable(t, path)
		for app, want := range map[uuid.UUID][]store.Member{a: {c1}, b: {c4, c2}, store.DefaultGroupID: nil} {
			page, err := s.List(ctx, app, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(page.Members, want) {
				t.Errorf("round %d: group %s holds %+v, want %+v", round, app, page.Members, want)
			}
		}
		if got, want := connectorIDs(t, s, 10), []uuid.UUID{c1.ID, c2.ID, c4.ID}; !slices.Equal(got, want) {
			t.Errorf("round %d: connectors %v, want %v", round, got, want)
		}
		if got, want := groupsOf(t, s, c2.ID, 10), []uuid.UUID{b}; !slices.Equal(got, want) {
			t.Errorf("round %d: %s is a member of %v, want %v", round, c2.ID, got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStateFileOfFormat2Loads opens a state file written by release 0.3.0
// (testdata/state-format-2.db, written by the build of commit 482daac): in
// group aaaaaaaa… 11111111… and 22222222… added, then 11111111… removed; in
// group bbbbbbbb… 22222222…; 33333333… registered in no group; 22222222…
// registered again as eu-02-moved. Everything loads, in order, with the
// properties written last, under the one-group rule: 22222222… stays in the
// group it joined last, 11111111… and 33333333…, in none, are in the default
// group; the file is upgraded to this release's format and reads the same
// once more.
func TestStateFileOfFormat2Loads(t *testing.T) {
	ctx := context.Background()
	path := fixtureCopy(t, "testdata/state-format-2.db")
	a := uuid.MustParse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
	b := uuid.MustParse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
	c1 := store.Member{ID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), Connector: generated.Connector{ExternalIP: "203.0.113.1", MachineName: "eu-01", Status: "active"}}
	c2 := store.Member{ID: uuid.MustParse("22222222-2222-4222-8222-222222222222"), Connector: generated.Connector{ExternalIP: "198.51.100.2", MachineName: "eu-02-moved", Status: "inactive"}}
	c3 := store.Member{ID: uuid.MustParse("33333333-3333-4333-8333-333333333333"), Connector: generated.Connector{ExternalIP: "2001:db8::3", MachineName: "registered-only", Status: "active"}}
	for round := range 2 { // as written by the old build, then as upgraded
		s := openDurable(t, path)
		for app, want := range map[uuid.UUID][]store.Member{a: nil, b: {c2}, store.DefaultGroupID: {c1, c3}} {
			page, err := s.List(ctx, app, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(page.Members, want) {
				t.Errorf("round %d: group %s holds %+v, want %+v", round, app, page.Members, want)
			}
		}
		page, err := s.Connectors(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Member{c1, c2, c3}; !slices.Equal(page.Members, want) {
			t.Errorf("round %d: connectors %+v, want %+v", round, page.Members, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// fixtureCopy copies the state file fixture into a temporary directory (a
// store upgrades the file it opens) and returns the copy's path.
func fixtureCopy(t *testing.T, fixture string) string {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
