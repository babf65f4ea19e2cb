package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server/store"
)

// BenchmarkRestart opens a state file of a million members (in 100 groups),
// as a restart with --state does: every connector read and checked by the
// generated validator, every member loaded. ns/op is the restart's time.
func BenchmarkRestart(b *testing.B) {
	const n = 1_000_000
	path := filepath.Join(b.TempDir(), "state.db")
	s, err := store.OpenDurable(path)
	if err != nil {
		b.Fatal(err)
	}
	ops := make([]store.Op, 0, 10_000)
	for i := range n {
		app := uuid.NewSHA1(uuid.Nil, []byte{byte(i % 100)})
		ops = append(ops, store.Op{Kind: store.OpAdd, Group: app, Member: store.Member{ID: uuid.New(),
			Connector: generated.Connector{ExternalIP: "203.0.113.7", MachineName: fmt.Sprintf("connector-%07d", i), Status: "active"}}})
		if len(ops) == cap(ops) || i == n-1 {
			for _, err := range store.AddAll(context.Background(), s, ops) {
				if err != nil {
					b.Fatal(err)
				}
			}
			ops = ops[:0]
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := store.OpenDurable(path)
		if err != nil {
			b.Fatal(err)
		}
		if got := s.Members(); got != n {
			b.Fatalf("%d members after the restart, want %d", got, n)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
