package server_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
)

// ExampleNew embeds the mock in a test: the README's Go block, between
// the markers, runs here.
func ExampleNew() {
	// README begin
	srv, err := server.New(server.Config{Token: "t"}) // a *server.Server, an http.Handler
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	// README end

	rsp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		log.Fatal(err)
	}
	rsp.Body.Close()
	fmt.Println(rsp.StatusCode)
	// Output: 200
}

// ExampleServer_SetFaults misbehaves on purpose, then changes how.
func ExampleServer_SetFaults() {
	// README begin
	srv, err := server.New(server.Config{
		Faults: faults.Settings{FaultRate: 0.3, RetryAfter: time.Second,
			Latency: faults.Latency{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}},
		Seed: 7, // the same faults on every run
	})
	if err != nil {
		log.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	// … run the code under test against ts.URL; then, for the next part of the test:
	if err := srv.SetFaults(faults.Settings{RateLimit: faults.RateLimit{Requests: 5, Window: time.Second}}); err != nil {
		log.Fatal(err)
	}
	// README end

	fmt.Println(srv.Faults().RateLimit)
	// Output: 5/1s
}
