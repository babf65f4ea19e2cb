package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/spectest"
	"github.com/connector-group/members-api/server"
)

// recordingTransport remembers the client-request-ids it carried.
type recordingTransport struct {
	mu   sync.Mutex
	ids  []string
	base http.RoundTripper
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.ids = append(r.ids, req.Header.Get("client-request-id"))
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// start serves the mock on a real loopback port and returns a client of it
// whose every response is checked against the spec.
func start(t *testing.T, cfg server.Config, opts ...client.Option) (*client.Client, *recordingTransport, string) {
	t.Helper()
	h, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	checker, err := spectest.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingTransport{base: &spectest.Transport{Checker: checker, T: t}}
	c, err := client.New(srv.URL, append([]client.Option{client.WithHTTPClient(&http.Client{Transport: rec})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec, srv.URL
}

func connector(name string) client.Connector {
	return client.Connector{ExternalIP: "198.51.100.4", MachineName: name, Status: generated.ConnectorStatusActive}
}

func TestAddBothForms(t *testing.T) {
	ctx := context.Background()
	c, _, _ := start(t, server.Config{}, client.WithToken("t"))
	app := uuid.New()

	full, err := c.AddMember(ctx, app, connector("full"))
	if err != nil {
		t.Fatal(err)
	}
	if full.ID == uuid.Nil || full.MachineName != "full" {
		t.Errorf("201 form returned %+v", full)
	}
	id := uuid.New()
	in := connector("minimal")
	in.ID = &id
	min, err := c.AddMember(ctx, app, in, client.ReturnMinimal())
	if err != nil {
		t.Fatal(err)
	}
	if min.ID != id || min.MachineName != "minimal" {
		t.Errorf("204 form returned %+v, want the input with id %v", min, id)
	}
	// Without an id, the 204 form learns the assigned one from Location.
	assigned, err := c.AddMember(ctx, app, connector("assigned"), client.ReturnMinimal())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetMember(ctx, app, assigned.ID)
	if err != nil {
		t.Fatalf("GetMember(the id from Location): %v", err)
	}
	if got.MachineName != "assigned" || got.ExternalIP != "198.51.100.4" || got.Status != generated.ConnectorStatusActive {
		t.Errorf("stored %+v", got)
	}
}

func TestConnectorsAndReferences(t *testing.T) {
	ctx := context.Background()
	c, _, _ := start(t, server.Config{}, client.WithToken("t"))
	app, other := uuid.New(), uuid.New()
	added, err := c.AddMember(ctx, app, connector("shared"))
	if err != nil {
		t.Fatal(err)
	}
	// By reference, in both answer forms: the connector as the server knows it.
	got, err := c.AddMemberByReference(ctx, other, added.ID)
	if err != nil || !reflect.DeepEqual(got, added) {
		t.Fatalf("AddMemberByReference = %+v, %v; want %+v", got, err, added)
	}
	third := uuid.New()
	if got, err := c.AddMemberByReference(ctx, third, added.ID, client.ReturnMinimal()); err != nil || got.ID != added.ID {
		t.Errorf("AddMemberByReference, minimal = %+v, %v", got, err)
	}
	// The add to third moved the connector there (one group per connector).
	if _, err := c.AddMemberByReference(ctx, third, added.ID); !errors.Is(err, client.ErrAlreadyMember) {
		t.Errorf("a second reference: %v, want ErrAlreadyMember", err)
	}
	if _, err := c.AddMemberByReference(ctx, other, uuid.New()); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a reference to an unknown connector: %v, want ErrNotFound", err)
	}
	if got, err := c.GetConnector(ctx, added.ID); err != nil || !reflect.DeepEqual(got, added) {
		t.Errorf("GetConnector = %+v, %v", got, err)
	}
	if _, err := c.GetConnector(ctx, uuid.New()); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetConnector of an unknown id: %v, want ErrNotFound", err)
	}
	var ids []uuid.UUID
	for m, err := range c.ListConnectors(ctx, client.PageSize(1)) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if len(ids) != 1 || ids[0] != added.ID {
		t.Errorf("ListConnectors = %v, want the one connector once", ids)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	c, _, _ := start(t, server.Config{Token: "right"}, client.WithToken("right"))
	app := uuid.New()
	m, err := c.AddMember(ctx, app, connector("dup"))
	if err != nil {
		t.Fatal(err)
	}

	again := connector("dup")
	again.ID = &m.ID
	_, err = c.AddMember(ctx, app, again)
	assertAPIError(t, err, client.ErrAlreadyMember, 400, "Request_BadRequest")
	if errors.Is(err, client.ErrInvalidRequest) {
		t.Error("a duplicate also matches ErrInvalidRequest")
	}

	_, err = c.AddMember(ctx, app, client.Connector{ExternalIP: "String", MachineName: "String", Status: "String"})
	ae := assertAPIError(t, err, client.ErrInvalidRequest, 400, "Request_BadRequest")
	if ae != nil && len(ae.Details) != 2 {
		t.Errorf("details = %+v, want 2 violations", ae.Details)
	}

	_, err = c.GetMember(ctx, app, uuid.New())
	assertAPIError(t, err, client.ErrNotFound, 404, "Request_ResourceNotFound")
	err = c.RemoveMember(ctx, app, uuid.New())
	assertAPIError(t, err, client.ErrNotFound, 404, "Request_ResourceNotFound")

	wrong, _, _ := start(t, server.Config{Token: "right"}, client.WithToken("wrong"))
	_, err = wrong.GetMember(ctx, app, m.ID)
	assertAPIError(t, err, client.ErrUnauthorized, 401, "InvalidAuthenticationToken")
	for _, err := range wrong.ListMembers(ctx, app) {
		assertAPIError(t, err, client.ErrUnauthorized, 401, "InvalidAuthenticationToken")
	}
}

func assertAPIError(t *testing.T, err, sentinel error, status int, code string) *client.APIError {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want *client.APIError", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("errors.Is(%v, %v) = false", err, sentinel)
	}
	if ae.StatusCode != status || string(ae.Code) != code || ae.Message == "" {
		t.Errorf("APIError = %+v, want %d %s with a message", ae, status, code)
	}
	if _, err := uuid.Parse(ae.RequestID); err != nil {
		t.Errorf("RequestID %q is not a GUID", ae.RequestID)
	}
	if ae.ClientRequestID == "" {
		t.Error("ClientRequestID is empty")
	}
	if !strings.Contains(ae.Error(), ae.RequestID) {
		t.Errorf("Error() = %q lacks the request-id", ae.Error())
	}
	return ae
}

func TestListPagingAcrossDeletions(t *testing.T) {
	ctx := context.Background()
	c, rec, _ := start(t, server.Config{}, client.WithToken("t"))
	app := uuid.New()
	var ids []uuid.UUID
	for i := range 10 {
		m, err := c.AddMember(ctx, app, connector("m"+string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	before := len(rec.ids)
	var seen []string
	for m, err := range c.ListMembers(ctx, app, client.PageSize(3)) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, m.MachineName)
		if m.MachineName == "mc" { // mid-walk: remove one already seen and two still to come
			for _, i := range []int{0, 3, 7} {
				if err := c.RemoveMember(ctx, app, ids[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	want := []string{"ma", "mb", "mc", "me", "mf", "mg", "mi", "mj"}
	if !slices.Equal(seen, want) {
		t.Errorf("walked %v, want %v", seen, want)
	}
	// Pages [a b c] [e f g] [i j] (the removals happen after the first), plus the 3 removals.
	if calls := len(rec.ids) - before; calls != 3+3 {
		t.Errorf("%d requests, want 6", calls)
	}
	// Stopping early stops fetching.
	before = len(rec.ids)
	for range c.ListMembers(ctx, app, client.PageSize(2)) {
		break
	}
	if calls := len(rec.ids) - before; calls != 1 {
		t.Errorf("breaking out after one member made %d requests, want 1", calls)
	}
}

func TestFreshClientRequestIDs(t *testing.T) {
	ctx := context.Background()
	c, rec, _ := start(t, server.Config{}, client.WithToken("t"))
	app := uuid.New()
	for range 3 {
		if _, err := c.AddMember(ctx, app, connector("x")); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, id := range rec.ids {
		if _, err := uuid.Parse(id); err != nil || seen[id] {
			t.Errorf("client-request-id %q is not a fresh GUID", id)
		}
		seen[id] = true
	}
}

func TestTokenSource(t *testing.T) {
	ctx := context.Background()
	var calls int
	source := func(context.Context) (string, error) {
		calls++
		return "rotating", nil
	}
	c, _, _ := start(t, server.Config{Token: "rotating"}, client.WithTokenSource(source))
	for range 2 {
		if _, err := c.GetMember(ctx, uuid.New(), uuid.New()); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("GetMember: %v, want ErrNotFound (authenticated)", err)
		}
	}
	if calls != 2 {
		t.Errorf("token source called %d times, want once per request", calls)
	}
	failing, _, _ := start(t, server.Config{}, client.WithTokenSource(func(context.Context) (string, error) {
		return "", errors.New("vault sealed")
	}))
	if _, err := failing.GetMember(ctx, uuid.New(), uuid.New()); err == nil || !strings.Contains(err.Error(), "vault sealed") {
		t.Errorf("a failing token source gave %v", err)
	}
}

func TestNextLinkToAnotherHostIsRefused(t *testing.T) {
	// A server whose nextLink points elsewhere must not receive the token there.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[],"@odata.nextLink":"http://attacker.invalid/steal"}`))
	}))
	defer evil.Close()
	c, err := client.New(evil.URL, client.WithToken("secret"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.ListMembers(context.Background(), uuid.New()) {
		if err == nil || !strings.Contains(err.Error(), "leaves the server") {
			t.Errorf("err = %v, want a refusal to follow", err)
		}
	}
}

func TestNewRejectsBadServer(t *testing.T) {
	for _, s := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := client.New(s); err == nil {
			t.Errorf("New(%q) succeeded", s)
		}
	}
}

// TestReferenceCarriesNoCredentials: a server URL with a user and password
// does not put them into the @odata.id of an add by reference, where the
// journal and the dashboard would show them.
func TestReferenceCarriesNoCredentials(t *testing.T) {
	bodies := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := client.New(strings.Replace(srv.URL, "http://", "http://user:SECRETPW@", 1), client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if _, err := c.AddMemberByReference(context.Background(), uuid.New(), id); err != nil {
		t.Fatal(err)
	}
	body := <-bodies
	if strings.Contains(body, "SECRETPW") || strings.Contains(body, "user") || !strings.Contains(body, srv.URL+"/onPremisesPublishingProfiles/applicationProxy/connectors/"+id.String()) {
		t.Errorf("the reference sent: %s", body)
	}
}
