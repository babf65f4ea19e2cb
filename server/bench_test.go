package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// The benchmarks run the request path in process. Each Bare* benchmark is the
// baseline for the one beside it: a bare Echo handler on the same route that
// only does what any handler must (decode the JSON into a struct, answer).
// Compare them as ratios from one run: `make bench-go`.

// bareEcho is the baseline server: no validation, no store, no logging.
func bareEcho() http.Handler {
	e := echo.New()
	e.POST("/applications/:applicationsId/connectorGroup/members/$ref", func(c echo.Context) error {
		var in generated.Connector
		if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
			return c.NoContent(http.StatusBadRequest)
		}
		return c.NoContent(http.StatusNoContent)
	})
	e.GET("/applications/:applicationsId/connectorGroup/members/:connectorId", func(c echo.Context) error {
		return c.JSON(http.StatusOK, generated.Connector{ExternalIP: "203.0.113.7", MachineName: "connector-eu-01", Status: "active"})
	})
	return e
}

func benchServer(b *testing.B, members store.Store) http.Handler {
	b.Helper()
	h, err := server.New(server.Config{Store: members}) // logs discarded, like the baseline
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func runRequests(b *testing.B, h http.Handler, want int, newReq func() *http.Request) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq())
		if rec.Code != want {
			b.Fatalf("status %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

func postRequest(body string) func() *http.Request {
	return func() *http.Request {
		req := newRequest(http.MethodPost, addPath(testApp), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer bench")
		req.Header.Set("Content-Type", "application/json")
		return req
	}
}

func BenchmarkBarePost(b *testing.B) {
	runRequests(b, bareEcho(), http.StatusNoContent, postRequest(validBody))
}

func BenchmarkPostValid(b *testing.B) {
	runRequests(b, benchServer(b, nil), http.StatusNoContent, postRequest(validBody))
}

func BenchmarkBarePostInvalid(b *testing.B) {
	runRequests(b, bareEcho(), http.StatusNoContent, postRequest(pageExample)) // the bare handler takes anything
}

func BenchmarkPostInvalid(b *testing.B) {
	runRequests(b, benchServer(b, nil), http.StatusBadRequest, postRequest(pageExample))
}

func getRequest(target string) func() *http.Request {
	return func() *http.Request {
		req := newRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer bench")
		return req
	}
}

func BenchmarkBareGet(b *testing.B) {
	runRequests(b, bareEcho(), http.StatusOK, getRequest(memberPath(testApp, uuid.NewString())))
}

func BenchmarkGet(b *testing.B) {
	members := store.NewMemory()
	app, id := uuid.MustParse(testApp), uuid.New()
	if err := members.Add(context.Background(), app, store.Member{ID: id, Connector: generated.Connector{ExternalIP: "203.0.113.7", MachineName: "connector-eu-01", Status: "active"}}); err != nil {
		b.Fatal(err)
	}
	runRequests(b, benchServer(b, members), http.StatusOK, getRequest(memberPath(testApp, id.String())))
}

// filledStore holds n members in the group of testApp.
func filledStore(b *testing.B, n int) *store.Memory {
	b.Helper()
	members := store.NewMemory()
	app := uuid.MustParse(testApp)
	for i := range n {
		m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "203.0.113.7", MachineName: fmt.Sprintf("connector-%07d", i), Status: "active"}}
		if err := members.Add(context.Background(), app, m); err != nil {
			b.Fatal(err)
		}
	}
	return members
}

// BenchmarkListPage lists a page of 100 from the middle of groups of
// different sizes: the cost must follow the page, not the group.
func BenchmarkListPage(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			h := benchServer(b, filledStore(b, n))
			// Page to the middle of the group, as a client paging through it would.
			next, walked := listPath(testApp)+"?$top="+fmt.Sprint(min(999, n/2)), 0
			for walked < n/2 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, getRequest(next)())
				var page generated.ConnectorCollection
				if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.OdataNextLink == nil {
					b.Fatalf("paging to the middle: %v %s", err, rec.Body)
				}
				walked += len(page.Value)
				next = strings.TrimPrefix(*page.OdataNextLink, "http://127.0.0.1:8080")
			}
			token := next[strings.Index(next, "$skiptoken="):]
			runRequests(b, h, http.StatusOK, getRequest(listPath(testApp)+"?$top=100&"+token))
		})
	}
}

// BenchmarkMemoryPerMember reports the heap a stored member costs, all in
// one group and each in a group of its own (an application each).
func BenchmarkMemoryPerMember(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, layout := range []string{"one-group", "own-groups"} {
			b.Run(fmt.Sprintf("members=%d/%s", n, layout), func(b *testing.B) {
				for b.Loop() {
					before := heapInUse()
					var members *store.Memory
					if layout == "one-group" {
						members = filledStore(b, n)
					} else {
						members = spreadStore(b, n)
					}
					after := heapInUse()
					b.ReportMetric(float64(after-before)/float64(n), "bytes/member")
					runtime.KeepAlive(members)
				}
			})
		}
	}
}

// spreadStore holds n members, each in the group of an application of its own.
func spreadStore(b *testing.B, n int) *store.Memory {
	b.Helper()
	members := store.NewMemory()
	for i := range n {
		m := store.Member{ID: uuid.New(), Connector: generated.Connector{ExternalIP: "203.0.113.7", MachineName: fmt.Sprintf("connector-%07d", i), Status: "active"}}
		if err := members.Add(context.Background(), uuid.New(), m); err != nil {
			b.Fatal(err)
		}
	}
	return members
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkConcurrentAdds has 32 clients add at once, through the whole
// handler, to the in-memory store and to the durable one (an fsync per
// commit, shared by the writes waiting): compare the two as a ratio.
func BenchmarkConcurrentAdds(b *testing.B) {
	for _, st := range storeKinds {
		b.Run("store="+st.name, func(b *testing.B) {
			h := benchServer(b, st.open(b))
			b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, postRequest(validBody)())
					if rec.Code != http.StatusNoContent {
						b.Errorf("status %d", rec.Code)
						return
					}
				}
			})
		})
	}
}

// BenchmarkQuery100k: one page of a group of 100,000 members read with each
// kind of query, in process. A $filter that keeps nothing reads every member
// once; $orderby sorts them all; a plain first page reads one page. The
// README quotes these figures (`go test -run - -bench Query100k -benchmem ./server`).
func BenchmarkQuery100k(b *testing.B) {
	const n = 100_000
	members := store.NewMemory()
	ops := make([]store.Op, n)
	for i := range ops {
		status := generated.ConnectorStatusActive
		if i%2 == 1 {
			status = generated.ConnectorStatusInactive
		}
		ops[i] = store.Op{Kind: store.OpAdd, Group: uuid.MustParse(testApp), ViaApplication: true, Member: store.Member{ID: uuid.New(),
			Connector: generated.Connector{ExternalIP: "192.0.2.1", MachineName: fmt.Sprintf("connector-%06d", i), Status: status}}}
	}
	for i, err := range store.AddAll(context.Background(), members, ops) {
		if err != nil {
			b.Fatalf("op %d: %v", i, err)
		}
	}
	h := benchServer(b, members)
	for _, bc := range []struct{ name, query string }{
		{"first-page", "?$top=100"},
		{"filter-keeps-none", "?$filter=" + urlQuery("machineName eq 'nobody'")},
		{"filter-keeps-half", "?$filter=" + urlQuery("status eq 'active' and startswith(machineName,'connector-')") + "&$top=100"},
		{"filter-and-count", "?$filter=" + urlQuery("status eq 'inactive'") + "&$count=true&$top=100"},
		{"orderby", "?$orderby=" + urlQuery("machineName desc") + "&$top=100"},
		{"count-segment", "/$count?$filter=" + urlQuery("status eq 'active'")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := listPath(testApp)
			if !strings.HasPrefix(bc.query, "?") {
				path, bc.query = path+bc.query[:strings.IndexByte(bc.query, '?')], bc.query[strings.IndexByte(bc.query, '?'):]
			}
			runRequests(b, h, http.StatusOK, func() *http.Request {
				req := newRequest(http.MethodGet, path+bc.query, nil)
				req.Header.Set("Authorization", "Bearer bench")
				return req
			})
		})
	}
}

func urlQuery(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// BenchmarkApplicationsPage is the dashboard's poll, a page of
// /_admin/applications, beside stores of different sizes: the cost must
// follow the page, not the number of groups.
func BenchmarkApplicationsPage(b *testing.B) {
	for _, n := range []int{1_000, 200_000} {
		b.Run(fmt.Sprintf("groups=%d", n), func(b *testing.B) {
			h := benchServer(b, spreadStore(b, n))
			runRequests(b, h, http.StatusOK, getRequest("/_admin/applications"))
		})
	}
}

// BenchmarkMetrics is a scrape of /metrics beside a GET of a connector.
func BenchmarkMetrics(b *testing.B) {
	members := filledStore(b, 1000)
	page, _ := members.Connectors(context.Background(), 0, 1)
	h := benchServer(b, members)
	b.Run("metrics", func(b *testing.B) { runRequests(b, h, http.StatusOK, getRequest("/metrics")) })
	b.Run("connector", func(b *testing.B) {
		runRequests(b, h, http.StatusOK, getRequest("/onPremisesPublishingProfiles/applicationProxy/connectors/"+page.Members[0].ID.String()))
	})
}
