package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// fill adds n members to group and returns their ids, in order.
func fill(t testing.TB, s *Memory, group uuid.UUID, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
		m := Member{ID: ids[i], Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: fmt.Sprint("m", i), Status: "active"}}
		if err := s.Add(context.Background(), group, m); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// TestFirstPageSkipsLeadingTombstones: removing the oldest members first
// (below the compaction threshold) leaves tombstones a first page does not
// walk: the group knows where its first live member is, and the page is
// what it was.
func TestFirstPageSkipsLeadingTombstones(t *testing.T) {
	ctx := context.Background()
	s := NewMemory()
	group := uuid.New()
	ids := fill(t, s, group, 10_000)
	for _, id := range ids[:4_999] {
		if err := s.Remove(ctx, group, id); err != nil {
			t.Fatal(err)
		}
	}
	g := s.groups[group]
	if g.n != 10_000 || g.head() != 4_999 {
		t.Fatalf("%d entries, the first live at %d; want 10,000 (no compaction yet) and 4,999", g.n, g.head())
	}
	page, err := s.List(ctx, group, 0, 3)
	if err != nil || len(page.Members) != 3 || page.Members[0].ID != ids[4_999] || page.Members[2].ID != ids[5_001] || !page.More {
		t.Fatalf("the first page: %+v, %v", page, err)
	}
	// A removal in the middle does not move it; a compaction resets it.
	if err := s.Remove(ctx, group, ids[7_000]); err != nil || g.head() != 4_999 {
		t.Fatalf("after a removal in the middle: first live at %d, %v", g.head(), err)
	}
	if err := s.Remove(ctx, group, ids[4_999]); err != nil {
		t.Fatal(err)
	}
	if g = s.groups[group]; g.n != 4_999 || g.head() != 0 {
		t.Errorf("after the compaction: %d entries, the first live at %d; want 4,999 and 0", g.n, g.head())
	}
	// A small group (no index) scans from its start, whatever it holds.
	small := uuid.New()
	few := fill(t, s, small, 3)
	if err := s.Remove(ctx, small, few[0]); err != nil {
		t.Fatal(err)
	}
	if page, err := s.List(ctx, small, 0, 10); err != nil || len(page.Members) != 2 || page.Members[0].ID != few[1] {
		t.Errorf("a small group's page: %+v, %v", page, err)
	}
}

// BenchmarkFirstPageAfterRemovals is a first page of 100 of a group of
// 200,000 from which the oldest half but one was removed: its cost must be
// the page's, as in a group without removals.
func BenchmarkFirstPageAfterRemovals(b *testing.B) {
	ctx := context.Background()
	for _, removed := range []int{0, 99_999} {
		b.Run(fmt.Sprintf("removed=%d", removed), func(b *testing.B) {
			s := NewMemory()
			group := uuid.New()
			ids := fill(b, s, group, 200_000)
			for _, id := range ids[:removed] {
				if err := s.Remove(ctx, group, id); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if page, err := s.List(ctx, group, 0, 100); err != nil || len(page.Members) != 100 {
					b.Fatal(err)
				}
			}
		})
	}
}
