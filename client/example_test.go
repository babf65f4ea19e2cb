package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// Example is README's Workflow 3, run: the mock in process stands in for the
// server at http://127.0.0.1:8080.
func Example() {
	mock, err := server.New(server.Config{})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	serverURL := srv.URL

	// README begin
	ctx := context.Background()
	c, err := client.New(serverURL, client.WithToken("any"))
	if err != nil {
		log.Fatal(err)
	}
	app := uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")

	m, err := c.AddMember(ctx, app, client.Connector{
		ExternalIP: "203.0.113.7", MachineName: "connector-eu-01", Status: generated.ConnectorStatusActive,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added", m.MachineName, m.ID != uuid.Nil) // m.ID is always set

	for m, err := range c.ListMembers(ctx, app, client.PageSize(50)) { // follows @odata.nextLink
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("listed", m.MachineName, m.Status)
	}
	if err := c.RemoveMember(ctx, app, m.ID); err != nil {
		log.Fatal(err)
	}
	_, err = c.GetMember(ctx, app, m.ID)
	fmt.Println("gone:", errors.Is(err, client.ErrNotFound))

	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.RequestID != "")
	}
	// README end

	// Output:
	// added connector-eu-01 true
	// listed connector-eu-01 active
	// gone: true
	// 404 Request_ResourceNotFound true
}
