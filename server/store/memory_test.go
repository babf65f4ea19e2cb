package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server/store"
)

// walk lists the whole group of app, limit members a page.
func walk(t *testing.T, s store.Store, app uuid.UUID, limit int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	var after store.Cursor
	for {
		page, err := s.List(context.Background(), app, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Members) > limit {
			t.Fatalf("a page of %d members with limit %d", len(page.Members), limit)
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

func TestMemoryStoreCompaction(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	app := uuid.New()
	var all []uuid.UUID
	for range 300 {
		m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "m", Status: "active"}}
		if err := s.Add(ctx, app, m); err != nil {
			t.Fatal(err)
		}
		all = append(all, m.ID)
	}
	// A cursor taken before the removals must still resume in the right place after compaction.
	page, err := s.List(ctx, app, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kept []uuid.UUID
	for i, id := range all {
		if i%4 != 0 { // remove three in four: compaction runs along the way
			if err := s.Remove(ctx, app, id); err != nil {
				t.Fatal(err)
			}
		} else {
			kept = append(kept, id)
		}
	}
	if got := walk(t, s, app, 7); !slices.Equal(got, kept) {
		t.Errorf("after removals the walk has %d members, want %d", len(got), len(kept))
	}
	rest, err := s.List(ctx, app, page.Next, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := kept[25:]; len(rest.Members) != len(want) || rest.Members[0].ID != want[0] {
		t.Errorf("resuming an old cursor gave %d members starting %v, want %d starting %v",
			len(rest.Members), rest.Members[0].ID, len(want), want[0])
	}
	for _, id := range kept {
		if _, err := s.Get(ctx, app, id); err != nil {
			t.Errorf("Get(%v) after compaction: %v", id, err)
		}
	}
	if err := s.Remove(ctx, app, all[1]); !errors.Is(err, store.ErrMemberNotFound) {
		t.Errorf("removing twice: %v, want ErrMemberNotFound", err)
	}
	if err := s.Add(ctx, app, store.Member{ID: kept[0]}); !errors.Is(err, store.ErrDuplicateMember) {
		t.Errorf("adding twice: %v, want ErrDuplicateMember", err)
	}
}

func TestMemoryStoreHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := store.NewMemory()
	if err := s.Add(ctx, uuid.New(), store.Member{ID: uuid.New()}); !errors.Is(err, context.Canceled) {
		t.Errorf("Add with a cancelled context: %v", err)
	}
}

// TestMemoryStoreAcrossChunks fills a group past several entry and string
// chunks (one member's name larger than a whole chunk), removes members so
// that compaction rebuilds them, and checks order, paging and every value.
func TestMemoryStoreAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory()
	app := uuid.New()
	want := map[uuid.UUID]store.Member{}
	var order []uuid.UUID
	for i := range 10_000 {
		name := strings.Repeat("n", 1+i%300)
		if i == 5000 {
			name = strings.Repeat("huge", 20_000) // 80 kB: a chunk of its own
		}
		m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: fmt.Sprintf("192.0.2.%d", i%256), MachineName: name, Status: "active"}}
		if i%2 == 0 {
			m.Status = "inactive"
		}
		if err := s.Add(ctx, app, m); err != nil {
			t.Fatal(err)
		}
		want[m.ID] = m
		order = append(order, m.ID)
	}
	check := func(stage string) {
		t.Helper()
		if got := walk(t, s, app, 777); !slices.Equal(got, order) {
			t.Fatalf("%s: listing gives %d members, want the %d added, in order", stage, len(got), len(order))
		}
		for _, id := range order {
			got, err := s.Get(ctx, app, id)
			if err != nil || got != want[id] {
				t.Fatalf("%s: Get(%s) = %+v, %v; want %+v", stage, id, got, err, want[id])
			}
		}
	}
	check("after adding")
	var kept []uuid.UUID
	for i, id := range order {
		if i%3 != 0 { // two in three go: compaction runs along the way
			if err := s.Remove(ctx, app, id); err != nil {
				t.Fatal(err)
			}
			delete(want, id)
		} else {
			kept = append(kept, id)
		}
	}
	order = kept
	check("after removing two in three")
}
