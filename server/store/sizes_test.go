package store

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/connector-group/members-api/generated"
)

// readSizesOf returns the sizes a state file's meta bucket holds, nil for none.
func readSizesOf(t *testing.T, path string) (sizes []byte) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySizes); v != nil {
			sizes = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sizes
}

// TestCleanCloseLeavesSizes: a clean Close writes how many connectors and
// members the file holds (what the next start sizes its work by), with the
// id of its transaction: a commit after it (a crash before the next clean
// Close) makes the figure stale, and it is not used; a figure no file of its
// size could hold is bounded, not obeyed.
func TestCleanCloseLeavesSizes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenDurable(path)
	if err != nil {
		t.Fatal(err)
	}
	group := uuid.New()
	for i := range 3 {
		m := Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "c" + string(rune('0'+i)), Status: "active"}}
		if err := s.Add(context.Background(), group, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Register(context.Background(), Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.2", MachineName: "alone", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sizes := readSizesOf(t, path)
	if len(sizes) != 24 || binary.BigEndian.Uint64(sizes) != 4 || binary.BigEndian.Uint64(sizes[8:]) != 4 {
		t.Fatalf("sizes after a clean close %x, want 4 connectors and 4 members (the one registered in the default group)", sizes)
	}

	s, err = OpenDurable(path)
	if err != nil {
		t.Fatal(err)
	}
	// A commit after the clean Close: its figure is stale, and ignored.
	if err := s.Register(context.Background(), Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.3", MachineName: "late", Status: "active"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if c, m := readSizes(tx, meta, 1<<20, tx.Bucket(bucketConnectors), tx.Bucket(bucketMembers)); c != 5 || m != 5 {
			t.Errorf("sizes after a later commit: %d connectors, %d members; want the counts, 5 and 5", c, m)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := s.Members(); got != 5 {
		t.Errorf("%d members after the restart and a registration, want 5", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A figure no file of this size could hold sizes nothing beyond the file.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySizes, encodeSizes(1<<62, 1<<62, uint64(tx.ID())))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenDurable(path)
	if err != nil {
		t.Fatalf("a file claiming 2^62 connectors: %v", err)
	}
	if got := s.Members(); got != 5 {
		t.Errorf("%d members, want 5", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
