package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
)

// The real service's answers, as its documentation shows them; the fixtures
// are written here from these facts, not copied:
//   - Microsoft Graph's error envelope is {"error": {"code", "message",
//     "innerError": {"date", "request-id", "client-request-id"}}}, and the
//     Graph SDK design documents show innerError.date without a UTC offset:
//     "2021-07-02T01:40:19".
//   - A missing entity is 404 Request_ResourceNotFound, "Resource '<id>' does
//     not exist or one of its queried reference-property objects are not
//     present.", with no target.
//   - A path segment the service does not have is 400 BadRequest, "Resource
//     not found for the segment '<segment>'.".
//   - A duplicate reference is 400 Request_BadRequest, "One or more added
//     object references already exist for the following modified
//     properties: 'members'."
//   - Throttling is 429 TooManyRequests with Retry-After in seconds.
var serviceAnswers = []struct {
	name    string
	status  int
	header  http.Header
	body    string
	is      error
	isNot   []error
	code    string
	message string
	reqID   string
}{
	{
		name: "missing member, date without offset, no target", status: 404,
		body: `{"error":{"code":"Request_ResourceNotFound","message":"Resource '8f1e6c2a-0d3b-4a57-9c1e-5b2f7d9a3e41' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2021-07-02T01:40:19","request-id":"3b2d1c9e-7f4a-4e1b-8c2d-6a5f4e3d2c1b","client-request-id":"3b2d1c9e-7f4a-4e1b-8c2d-6a5f4e3d2c1c"}}}`,
		is:   client.ErrNotFound, isNot: []error{client.ErrInvalidRequest},
		code: "Request_ResourceNotFound", message: "Resource '8f1e6c2a-0d3b-4a57-9c1e-5b2f7d9a3e41' does not exist or one of its queried reference-property objects are not present.",
		reqID: "3b2d1c9e-7f4a-4e1b-8c2d-6a5f4e3d2c1b",
	},
	{
		name: "unknown segment", status: 400,
		body: `{"error":{"code":"BadRequest","message":"Resource not found for the segment 'connectorGroupz'.","innerError":{"date":"2021-07-02T01:40:19","request-id":"req-7781","client-request-id":"c-1"}}}`,
		is:   client.ErrInvalidRequest, isNot: []error{client.ErrNotFound, client.ErrAlreadyMember},
		code: "BadRequest", message: "Resource not found for the segment 'connectorGroupz'.", reqID: "req-7781",
	},
	{
		name: "duplicate, properties the model does not know", status: 400,
		body: `{"error":{"code":"Request_BadRequest","message":"One or more added object references already exist for the following modified properties: 'members'.","innerError":{"date":"2021-07-02T01:40:19","request-id":"not-a-guid","client-request-id":"c-2","@odata.type":"#microsoft.graph.innerError"},"extra":{"any":true}}}`,
		is:   client.ErrAlreadyMember, isNot: []error{client.ErrInvalidRequest},
		code: "Request_BadRequest", message: "One or more added object references already exist for the following modified properties: 'members'.",
		reqID: "not-a-guid",
	},
	{
		name: "throttled", status: 429, header: http.Header{"Retry-After": {"1"}},
		body: `{"error":{"code":"TooManyRequests","message":"Too many requests.","innerError":{"date":"2021-07-02T01:40:19","request-id":"r-429","client-request-id":"c-3"}}}`,
		is:   client.ErrThrottled, code: "TooManyRequests", message: "Too many requests.", reqID: "r-429",
	},
}

// TestReadsTheServicesErrors: the client reads the real service's error
// envelopes as the service writes them: a diagnostic field that does not
// parse (a date without offset, an id that is no GUID, a property the model
// lacks) never hides the code and the message.
func TestReadsTheServicesErrors(t *testing.T) {
	for _, a := range serviceAnswers {
		t.Run(a.name, func(t *testing.T) {
			c, _ := newScripted(t, []client.Option{client.WithRetries(0)}, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range a.header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(a.status)
				_, _ = w.Write([]byte(a.body))
			})
			_, err := c.GetMember(context.Background(), uuid.New(), uuid.New())
			var ae *client.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want an *APIError", err, err)
			}
			if ae.StatusCode != a.status || string(ae.Code) != a.code || ae.Message != a.message || ae.RequestID != a.reqID {
				t.Errorf("read %d %q %q request-id %q; want %d %q %q %q", ae.StatusCode, ae.Code, ae.Message, ae.RequestID,
					a.status, a.code, a.message, a.reqID)
			}
			if !errors.Is(err, a.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, a.is)
			}
			for _, not := range a.isNot {
				if errors.Is(err, not) {
					t.Errorf("errors.Is(%v, %v) = true", err, not)
				}
			}
		})
	}
}
