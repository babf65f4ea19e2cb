package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server/store"
)

func openDurable(t *testing.T, path string) *store.Durable {
	t.Helper()
	s, err := store.OpenDurable(path)
	if err != nil {
		t.Fatalf("OpenDurable: %v", err)
	}
	return s
}

func TestDurableStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openDurable(t, path)
	app := uuid.New()
	var ids []uuid.UUID
	for i := range 50 {
		m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "m" + string(rune('A'+i%26)), Status: "active"}}
		if err := s.Add(ctx, app, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	for _, id := range ids[:10] {
		if err := s.Remove(ctx, app, id); err != nil {
			t.Fatal(err)
		}
	}
	// A cursor issued before the restart must resume in the same place after it.
	first, err := s.List(ctx, app, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, app, store.Member{ID: uuid.New()}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Add after Close: %v, want ErrClosed", err)
	}

	s = openDurable(t, path)
	defer s.Close()
	if got := walk(t, s, app, 7); len(got) != 40 || got[0] != ids[10] || got[39] != ids[49] {
		t.Fatalf("after reopening: %d members, want ids[10:50] in order", len(got))
	}
	rest, err := s.List(ctx, app, first.Next, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Members) != 35 || rest.Members[0].ID != ids[15] {
		t.Errorf("an old cursor resumed with %d members, want 35 from ids[15]", len(rest.Members))
	}
	m, err := s.Get(ctx, app, ids[20])
	if err != nil || m.ExternalIP != "192.0.2.1" || m.Status != "active" {
		t.Errorf("Get after reopening: %+v, %v", m, err)
	}
	// New members go after the old ones.
	late := uuid.New()
	if err := s.Add(ctx, app, store.Member{ID: late, Connector: generated.Connector{ExternalIP: "192.0.2.9", MachineName: "late", Status: "inactive"}}); err != nil {
		t.Fatal(err)
	}
	if got := walk(t, s, app, 100); got[len(got)-1] != late {
		t.Errorf("a member added after reopening is not last")
	}
}

// TestDurableStoreConcurrentWrites races adds of the same ids, so that
// duplicates meet in one commit batch as well as across batches.
func TestDurableStoreConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	s := openDurable(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	app := uuid.New()
	ids := make([]uuid.UUID, 64)
	for i := range ids {
		ids[i] = uuid.New()
	}
	var mu sync.Mutex
	wins := map[uuid.UUID]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids {
				err := s.Add(ctx, app, store.Member{ID: id, Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "w", Status: "active"}})
				switch {
				case err == nil:
					mu.Lock()
					wins[id]++
					mu.Unlock()
				case !errors.Is(err, store.ErrDuplicateMember):
					t.Errorf("worker %d: %v", w, err)
				}
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if wins[id] != 1 {
			t.Errorf("member %v was added %d times, want exactly once", id, wins[id])
		}
	}
	if got := walk(t, s, app, 1000); len(got) != len(ids) {
		t.Errorf("%d members stored, want %d", len(got), len(ids))
	}
}

func TestDurableStoreRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s := openDurable(t, good)
	app := uuid.New()
	for range 200 {
		if err := s.Add(context.Background(), app, store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "m", Status: "active"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	otherBolt := filepath.Join(dir, "other.db")
	makeOtherBoltFile(t, otherBolt)
	otherData, _ := os.ReadFile(otherBolt)

	corrupt := bytes.Clone(data)
	for i := 2 * 4096; i < len(corrupt); i++ { // every page past the two meta pages
		corrupt[i] = 0xff
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated to a page", data[:4096]},
		{"truncated mid-file", data[:len(data)/2+123]},
		{"truncated by a byte", data[:len(data)-1]},
		{"corrupt pages", corrupt},
		{"JSON", []byte(`{"members": []}`)},
		{"random bytes", bytes.Repeat([]byte{0x5a, 0x13, 0x77}, 20000)},
		{"another bbolt file", otherData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "case.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := store.OpenDurable(path)
			if err == nil {
				s.Close()
				t.Fatal("OpenDurable accepted the file")
			}
			var sfe *store.StateFileError
			if !errors.As(err, &sfe) || sfe.Path != path {
				t.Errorf("err = %v (%T), want a *StateFileError naming %s", err, err, path)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, tc.data) {
				t.Error("the refused file was modified")
			}
		})
	}
}

// TestCorruptPagesAreRefused damages each page of a state file in turn (its
// id, as a torn write or a bad sector would) and opens it: a message naming
// the file, or a file that still reads (a page no longer in use), never a
// crash. bbolt's own check panicked in a goroutine of its own, out of reach
// of any recover, for a damaged page anywhere.
func TestCorruptPagesAreRefused(t *testing.T) {
	if raceEnabled {
		t.Skip("its work is bbolt reading 40 damaged files and fsyncs, 4 times slower under the detector: run without -race (make test does)")
	}
	t.Parallel() // some 40 opens of a damaged copy, beside the model test's children
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	s := openDurable(t, path)
	var ops []store.Op // in batches, as a seed file is: a few fsyncs rather than 1,200
	for g := range 4 {
		app := uuid.NewSHA1(uuid.Nil, []byte{byte(g)})
		for i := range 300 {
			m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: fmt.Sprintf("machine-%04d", i), Status: "active"}}
			ops = append(ops, store.Op{Kind: store.OpAdd, Group: app, Member: m})
		}
	}
	for _, err := range store.AddAll(ctx, s, ops) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096
	refused := 0
	for page := 2; page < len(good)/pageSize; page++ {
		bad := bytes.Clone(good)
		bad[page*pageSize] ^= 0x5a // the low byte of the page's id
		damaged := filepath.Join(dir, fmt.Sprintf("page-%d.db", page))
		if err := os.WriteFile(damaged, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := store.OpenDurable(damaged)
		var sfe *store.StateFileError
		switch {
		case err == nil:
			_ = d.Close()
		case errors.As(err, &sfe) && strings.Contains(err.Error(), damaged):
			refused++
		default:
			t.Errorf("page %d damaged: %v, want a StateFileError naming the file", page, err)
		}
	}
	if refused == 0 {
		t.Errorf("no damaged page of %d was noticed", len(good)/pageSize-2)
	}
	t.Logf("%d of %d damaged pages refused with a message; the others were pages no longer in use", refused, len(good)/pageSize-2)
}

// TestStoredValuesAreChecked: a state file edited by hand (a status the
// spec does not have, an address that is none) is refused at start-up, as a
// POST of the same connector would be, rather than served.
func TestStoredValuesAreChecked(t *testing.T) {
	for _, c := range []struct {
		field, value, want string
	}{
		{"status", "BOGUS!", `/status: value "BOGUS!" is not one of ` + statusNames},
		{"externalIp", "999.1.1.1", `/externalIp: value "999.1.1.1" is not a valid ipv4 or ipv6`},
		{"machineName", "", `/machineName:`},
	} {
		t.Run(c.field, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			s := openDurable(t, path)
			if err := s.Add(context.Background(), uuid.New(), store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "m", Status: "active"}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			editConnectors(t, path, func(v map[string]any) { v[c.field] = c.value })
			_, err := store.OpenDurable(path)
			var sfe *store.StateFileError
			if !errors.As(err, &sfe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "breaks the API's rules") {
				t.Errorf("a stored %s of %q: %v, want a StateFileError saying %q", c.field, c.value, err, c.want)
			}
		})
	}
}

// editConnectors rewrites every connector of the state file at path.
func editConnectors(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("connectors"))
		return b.ForEach(func(k, v []byte) error {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			edit(m)
			nv, err := json.Marshal(m)
			if err != nil {
				return err
			}
			return b.Put(bytes.Clone(k), nv)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFileCutShortWhileRunning: truncating the state file under a running
// store made the next add fault (SIGBUS) and crash the process. Now that add
// fails with a StateFileError, Broken is closed, and every later write fails
// the same way.
func TestFileCutShortWhileRunning(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := store.OpenDurable(path)
	if err != nil {
		t.Fatal(err)
	}
	app := uuid.New()
	for i := range 2000 {
		if err := s.Add(ctx, app, store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: fmt.Sprintf("m-%d", i), Status: "active"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(path, 8192); err != nil {
		t.Fatal(err)
	}
	var failed error
	for i := 0; i < 100 && failed == nil; i++ {
		failed = s.Add(ctx, app, store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: "after", Status: "active"}})
	}
	var sfe *store.StateFileError
	if !errors.As(failed, &sfe) || !strings.Contains(failed.Error(), path) {
		t.Fatalf("adds to a file cut short: %v, want a StateFileError naming it", failed)
	}
	select {
	case <-s.Broken():
	default:
		t.Fatal("Broken is not closed after the failure")
	}
	if err := s.Remove(ctx, app, uuid.New()); !errors.Is(err, s.Err()) {
		t.Errorf("a later write: %v, want the store's failure", err)
	}
	if err := s.Close(); !errors.Is(err, s.Err()) {
		t.Errorf("Close: %v, want the store's failure", err)
	}
	t.Logf("the add after the cut: %v", failed)
}

// TestSeededConnectorSurvivesRestart is the data loss 0.3.0 had: connectors
// registered in no group (as a seed file's connectors are) did not advance
// the registry's position in the durable store, so the next add wrote its
// connector over the last of them on disk. With 600 of them and an add by
// reference, the file then named a member whose connector it did not hold
// and the mock refused to start; with one and an add by body, the seeded
// connector was gone after the restart without a word.
func TestSeededConnectorSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		registered int
		byRef      bool
	}{
		{"one seeded connector, an add by body", 1, false},
		{"600 seeded connectors, an add by reference", 600, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s1.db")
			s := openDurable(t, path)
			ops := make([]store.Op, tc.registered)
			want := make([]uuid.UUID, tc.registered)
			for i := range ops {
				want[i] = uuid.New()
				ops[i] = store.Op{Kind: store.OpRegister, Member: store.Member{ID: want[i], Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: fmt.Sprintf("seeded-%d", i), Status: "active"}}}
			}
			for i, err := range store.AddAll(ctx, s, ops) {
				if err != nil {
					t.Fatalf("registering %d: %v", i, err)
				}
			}
			app := uuid.New()
			if tc.byRef {
				if _, err := s.AddReference(ctx, app, want[0]); err != nil {
					t.Fatal(err)
				}
			} else {
				added := uuid.New()
				if err := s.Add(ctx, app, store.Member{ID: added, Connector: generated.Connector{ExternalIP: "192.0.2.2", MachineName: "added", Status: "active"}}); err != nil {
					t.Fatal(err)
				}
				want = append(want, added)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openDurable(t, path)
			defer s.Close()
			if got := connectorIDs(t, s, 999); !slices.Equal(got, want) {
				t.Errorf("after the restart the store knows %d connectors, want %d: %v", len(got), len(want), got)
			}
		})
	}
}

// statusNames are the connector's statuses as the validator's messages list
// them, read from generated/ so that a status added to the spec needs no
// edit here.
var statusNames = func() string {
	var names []string
	for _, v := range generated.ConnectorStatusValues() {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}()
