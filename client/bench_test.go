package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// countingServer serves the mock over loopback and counts the connections
// clients open to it.
func countingServer(tb testing.TB) (*httptest.Server, *atomic.Int64) {
	tb.Helper()
	mock, err := server.New(server.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(mock)
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv, &conns
}

// BenchmarkAddMember is the client's add beside the raw generated client's,
// against the same in-process mock over loopback (-benchmem for allocations).
func BenchmarkAddMember(b *testing.B) {
	srv, _ := countingServer(b)
	ctx := context.Background()
	app := uuid.New()
	in := connector("bench")
	b.Run("client", func(b *testing.B) {
		c, err := client.New(srv.URL, client.WithToken("t"))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.AddMember(ctx, app, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generated", func(b *testing.B) {
		raw, err := generated.NewClientWithResponses(srv.URL, generated.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer t")
			return nil
		}))
		if err != nil {
			b.Fatal(err)
		}
		params := &generated.AddConnectorGroupMemberParams{Prefer: &generated.Prefer{"return=representation"}}
		var body generated.NewMember
		if err := body.FromConnector(in); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			rsp, err := raw.AddConnectorGroupMemberWithResponse(ctx, app, params, body)
			if err != nil || rsp.JSON201 == nil {
				b.Fatal(err, rsp.StatusCode())
			}
		}
	})
}

// TestSixteenGoroutinesShareConnections: with the client's default transport,
// 16 goroutines making 10,000 adds between them reuse a few connections
// (net/http's default keeps 2 idle per host, so most adds would open one).
func TestSixteenGoroutinesShareConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 adds")
	}
	srv, conns := countingServer(t)
	c, err := client.New(srv.URL, client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	app := uuid.New()
	const total, workers = 10_000, 16
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += workers {
				if _, err := c.AddMember(context.Background(), app, connector("m")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("%d adds by %d goroutines in %v (%.0f a second) over %d connections", total, workers, took.Round(time.Millisecond),
		float64(total)/took.Seconds(), conns.Load())
	if n := conns.Load(); n > 2*workers {
		t.Errorf("%d connections for %d goroutines", n, workers)
	}
}
