package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
)

// TestRedirectKeepsTheTokenAtItsOrigin: a server that redirects (307) to
// another port of the same host gets no token there, for a GET and for a
// POST whose body is sent again; a redirect within the origin keeps it.
// net/http alone compares host names without ports and would send it.
func TestRedirectKeepsTheTokenAtItsOrigin(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Method+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer other.Close()
	var home []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/here/") {
			mu.Lock()
			home = append(home, r.Header.Get("Authorization"))
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if strings.HasSuffix(r.URL.Path, "$ref") && r.Method == http.MethodDelete {
			http.Redirect(w, r, "/here"+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithToken("s3cret"), client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _ = c.GetMember(ctx, uuid.New(), uuid.New())
	_, _ = c.AddMember(ctx, uuid.New(), client.Connector{ExternalIP: "192.0.2.1", MachineName: "m", Status: "active"})
	if err := c.RemoveMember(ctx, uuid.New(), uuid.New()); err != nil {
		t.Errorf("a redirect within the origin: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhere) != 2 || elsewhere[0] != "GET " || elsewhere[1] != "POST " {
		t.Errorf("the other port received %q, want a GET and a POST without Authorization", elsewhere)
	}
	if len(home) != 1 || home[0] != "Bearer s3cret" {
		t.Errorf("the redirect within the origin carried %q, want the token", home)
	}
}

// TestLoopGuardIsBounded: a server whose every page links to a new page by
// a 1 MiB link (in its fragment, so the requests stay small) does not make
// the client keep the links: 32 such pages hold a few MiB, not 32.
func TestLoopGuardIsBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("measures a cost: run without -race (make test does)")
	}
	page := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"%s/applications/x/connectorGroup/members?p=%d#%s"}`,
			"http://"+r.Host, page, strings.Repeat("f", 1<<20))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pages := 0
	for _, err := range c.ListPages(context.Background(), uuid.New()) {
		if err != nil {
			t.Fatal(err)
		}
		if pages++; pages == 32 {
			runtime.GC()
			runtime.ReadMemStats(&during)
			break
		}
	}
	grew := int64(during.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("after 32 pages with 1 MiB links the heap holds %d MiB more", grew>>20)
	if grew > 8<<20 {
		t.Errorf("32 pages with 1 MiB links hold %d MiB, want a few", grew>>20)
	}
}
