package mocktest_test

import (
	"context"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/mocktest"
)

// registerConnector is the code under test: it registers a machine's
// connector with an application, the way an application would.
func registerConnector(ctx context.Context, c *client.Client, app uuid.UUID, machine, ip string) (uuid.UUID, error) {
	m, err := c.AddMember(ctx, app, client.Connector{ExternalIP: ip, MachineName: machine, Status: "active"},
		client.WithClientRequestID("register-"+machine))
	if err != nil {
		return uuid.Nil, fmt.Errorf("registering %s: %w", machine, err)
	}
	return m.ID, nil
}

// Example shows a test that asserts what the code under test sent: exactly
// one add, with its client-request-id, retried once after a 429. In a test,
// mocktest.Start(t) does what New and Close do here.
func Example() {
	m, err := mocktest.New(mocktest.WithSeed(1))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	app := uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")

	// The service throttles the first add, then recovers.
	if err := m.SetFaults(faults.Settings{FaultRate: 1, FaultCodes: []int{429}, RetryAfter: time.Second}); err != nil {
		log.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = m.SetFaults(faults.Settings{})
	}()

	id, err := registerConnector(context.Background(), m.Client(), app, "eu-01", "203.0.113.7")
	if err != nil {
		log.Fatal(err)
	}

	adds := m.Requests(mocktest.Operation("addConnectorGroupMember"), mocktest.Application(app))
	for _, e := range adds { // newest first
		fmt.Println(e.Status, e.ClientRequestID, e.Headers["Retry-Attempt"], e.Fault)
	}
	stored := m.Requests(mocktest.Operation("addConnectorGroupMember"), mocktest.Status(201))
	fmt.Println("stored:", len(stored) == 1, id != uuid.Nil)
	// Output:
	// 201 register-eu-01 1 0
	// 429 register-eu-01  429
	// stored: true true
}

// ExampleMock_Requests lists what the mock was sent, newest first.
func ExampleMock_Requests() {
	m, err := mocktest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	c := m.Client()
	app := uuid.New()
	_, _ = c.AddMember(context.Background(), app, client.Connector{ExternalIP: "String", MachineName: "String", Status: "String"})

	for _, e := range m.Requests(mocktest.Status(400)) {
		fmt.Println(e.Method, e.Operation, e.ErrorCode, e.Targets)
	}
	// Output:
	// POST addConnectorGroupMember Request_BadRequest [/externalIp /status]
}

// TestRegistration is the README's test of code that uses the client,
// between the markers.
func TestRegistration(t *testing.T) {
	// README begin
	m := mocktest.Start(t) // or mocktest.Start(t, mocktest.WithFaults(…), mocktest.WithToken("t"))
	app := uuid.New()
	if _, err := registerConnector(context.Background(), m.Client(), app, "eu-01", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	adds := m.Requests(mocktest.Operation("addConnectorGroupMember"), mocktest.Application(app))
	if len(adds) != 1 || adds[0].ClientRequestID == "" {
		t.Errorf("sent %d adds: %+v", len(adds), adds)
	}
	if err := m.SetFaults(faults.Settings{RateLimit: faults.RateLimit{Requests: 1, Window: time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	// README end
}
