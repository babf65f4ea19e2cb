package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// TestConcurrentClients runs 32 clients that add, remove, read and page
// through four groups at once, through the whole handler stack, and checks
// that the final state is exactly the acknowledged adds minus the
// acknowledged removes, and that a paging walk sees every member that was
// there for the whole walk exactly once.
func TestConcurrentClients(t *testing.T) {
	for _, st := range storeKinds {
		t.Run(st.name, func(t *testing.T) { runConcurrentClients(t, st.open(t)) })
	}
}

func runConcurrentClients(t *testing.T, members store.Store) {
	const (
		workers = 16
		opsEach = 40
		stable  = 40
	)
	h := newHarness(t, server.Config{Store: members})
	apps := []string{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}
	stableIDs := map[string]map[string]bool{}
	for _, app := range apps {
		stableIDs[app] = map[string]bool{}
		for i := range stable {
			stableIDs[app][h.addMember(app, fmt.Sprintf("stable-%d", i))] = true
		}
	}

	var mu sync.Mutex
	live := map[string]map[string]bool{} // acknowledged adds minus acknowledged removes
	for _, app := range apps {
		live[app] = map[string]bool{}
		for id := range stableIDs[app] {
			live[app][id] = true
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var mine []struct{ app, id string }
			for range opsEach {
				app := apps[rng.IntN(len(apps))]
				switch op := rng.IntN(10); {
				case op < 4: // add
					id := uuid.NewString()
					res := h.add(app, `{"id":"`+id+`","externalIp":"192.0.2.7","machineName":"w","status":"active"}`)
					if res.status != http.StatusNoContent {
						t.Errorf("add: %d %s", res.status, res.body)
						continue
					}
					mu.Lock()
					live[app][id] = true
					mu.Unlock()
					mine = append(mine, struct{ app, id string }{app, id})
				case op < 6 && len(mine) > 0: // remove one of mine
					i := rng.IntN(len(mine))
					m := mine[i]
					mine = append(mine[:i], mine[i+1:]...)
					res := h.do(http.MethodDelete, memberPath(m.app, m.id)+"/$ref", authed(), nil)
					if res.status != http.StatusNoContent {
						t.Errorf("remove: %d %s", res.status, res.body)
						continue
					}
					mu.Lock()
					delete(live[m.app], m.id)
					mu.Unlock()
				case op < 8: // page through, small pages so the walk spans many writes
					checkWalk(t, h, app, 1+rng.IntN(15), stableIDs[app])
				default: // read a stable member
					for id := range stableIDs[app] {
						if res := h.do(http.MethodGet, memberPath(app, id), authed(), nil); res.status != http.StatusOK {
							t.Errorf("get stable member: %d", res.status)
						}
						break
					}
				}
			}
		}()
	}
	wg.Wait()

	for _, app := range apps {
		got := map[string]bool{}
		for _, m := range walkMembers(t, h, app, 999) {
			if got[m] {
				t.Errorf("member %s listed twice", m)
			}
			got[m] = true
		}
		if len(got) != len(live[app]) {
			t.Errorf("group %s lists %d members, want %d", app, len(got), len(live[app]))
		}
		for id := range live[app] {
			if !got[id] {
				t.Errorf("acknowledged member %s is missing", id)
			}
		}
	}
}

// checkWalk pages through app and checks no member comes twice and every
// stable member comes once.
func checkWalk(t *testing.T, h *harness, app string, top int, stable map[string]bool) {
	seen := map[string]bool{}
	for _, id := range walkMembers(t, h, app, top) {
		if seen[id] {
			t.Errorf("a walk with $top=%d saw %s twice", top, id)
		}
		seen[id] = true
	}
	for id := range stable {
		if !seen[id] {
			t.Errorf("a walk with $top=%d missed stable member %s", top, id)
		}
	}
}

// walkMembers returns the ids of a whole listing, following nextLink.
func walkMembers(t *testing.T, h *harness, app string, top int) []string {
	var ids []string
	target := fmt.Sprintf("%s?$top=%d", listPath(app), top)
	for target != "" {
		res := h.do(http.MethodGet, target, authed(), nil)
		if res.status != http.StatusOK {
			t.Errorf("list: %d %s", res.status, res.body)
			return ids
		}
		var page generated.ConnectorCollection
		if err := json.Unmarshal(res.body, &page); err != nil {
			t.Error(err)
			return ids
		}
		for _, m := range page.Value {
			ids = append(ids, m.ID.String())
		}
		target = ""
		if page.OdataNextLink != nil {
			target = strings.TrimPrefix(*page.OdataNextLink, "http://127.0.0.1:8080")
		}
	}
	return ids
}
