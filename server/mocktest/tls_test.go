package mocktest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/mocktest"
)

// TestStartTLS: a TLS mock serves https with a CA made for it, which its
// Client trusts, and whose certificate also names the AllowedHosts.
func TestStartTLS(t *testing.T) {
	m := mocktest.StartTLS(t, mocktest.WithConfig(func(c *server.Config) { c.AllowedHosts = []string{"mock.test"} }))
	if !strings.HasPrefix(m.URL, "https://127.0.0.1:") || !strings.Contains(string(m.CAPEM), "BEGIN CERTIFICATE") {
		t.Fatalf("URL %s, CA %d bytes", m.URL, len(m.CAPEM))
	}
	got, err := m.Client().AddMember(context.Background(), uuid.New(), client.Connector{ExternalIP: "192.0.2.1", MachineName: "over-https", Status: "active"})
	if err != nil || got.MachineName != "over-https" {
		t.Fatalf("an add over https: %+v, %v", got, err)
	}
	// The plain client of a TLS mock does not trust it.
	plain, _ := client.New(m.URL, client.WithToken("t"))
	if _, err := plain.AddMember(context.Background(), uuid.New(), client.Connector{ExternalIP: "192.0.2.1", MachineName: "x", Status: "active"}); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA: %v", err)
	}
}
