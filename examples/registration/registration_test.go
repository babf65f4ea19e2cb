package registration_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/mocktest"

	"example.com/registration"
)

// A test as a user writes it: the mock in process, the code under test
// against it, and assertions on what the mock received.
func TestEnsureAddsOnceAndSurvivesThrottling(t *testing.T) {
	m := mocktest.Start(t)
	app, id := uuid.New(), uuid.New()
	ctx := context.Background()

	if err := registration.Ensure(ctx, m.Client(), app, id, "eu-01", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	if err := registration.Ensure(ctx, m.Client(), app, id, "eu-01", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	if adds := m.Requests(mocktest.Operation("addConnectorGroupMember")); len(adds) != 1 {
		t.Errorf("Ensure twice sent %d adds, want 1", len(adds))
	}

	// Against a throttling service, with a token of its own, it still gets there.
	if err := m.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := m.SetFaults(faults.Settings{RateLimit: faults.RateLimit{Requests: 1, Window: time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := registration.Ensure(ctx, m.Client(), app, id, "eu-01", "203.0.113.7"); err != nil {
		t.Fatalf("Ensure against a rate limit of 1 a second: %v", err)
	}
	throttled := m.Requests(mocktest.Status(429))
	retried := m.Requests(mocktest.Operation("addConnectorGroupMember"), mocktest.Status(201))
	if len(throttled) == 0 || len(retried) != 1 || retried[0].Headers["Retry-Attempt"] == "" {
		t.Errorf("%d throttled, stored adds %+v: want one, a retry (Retry-Attempt) after a 429", len(throttled), retried)
	}
}
