package answercheck_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/connector-group/members-api/generated/echoapi"
	"github.com/connector-group/members-api/internal/answercheck"
)

// TestDisagreements: each way a service's answer can differ from the spec
// is said with where, what the spec says and what arrived.
func TestDisagreements(t *testing.T) {
	c, err := answercheck.New(echoapi.GetSpec)
	if err != nil {
		t.Fatal(err)
	}
	const connector = "/onPremisesPublishingProfiles/applicationProxy/connectors/33333333-3333-4333-8333-333333333333"
	json := http.Header{"Content-Type": {"application/json"}, "Request-Id": {"0f8fad5b-d9cb-469f-a165-70867728950e"}}
	for _, tc := range []struct {
		name, operation string
		status          int
		body            string
		want            []answercheck.Disagreement
	}{
		{"as the spec says", "getConnector", 200,
			`{"id":"33333333-3333-4333-8333-333333333333","externalIp":"198.51.100.3","machineName":"agent-3","status":"active"}`, nil},
		{"an extra property", "getConnector", 200,
			`{"id":"33333333-3333-4333-8333-333333333333","externalIp":"198.51.100.3","machineName":"agent-3","status":"active","version":"1.5.3437.0"}`,
			[]answercheck.Disagreement{{Pointer: "/version", Spec: "no such property (additionalProperties: false)", Arrived: `"1.5.3437.0"`}}},
		{"a date without offset", "getConnector", 404,
			`{"error":{"code":"Request_ResourceNotFound","message":"gone","innerError":{"date":"2026-11-28T15:04:05","request-id":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}`,
			[]answercheck.Disagreement{{Pointer: "/error/innerError/date", Spec: `string doesn't match the format "date-time"`, Arrived: `"2026-11-28T15:04:05"`}}},
		{"a status the spec does not list", "getConnector", 418, `{}`,
			[]answercheck.Disagreement{{Pointer: "status", Spec: "one of the statuses the operation lists", Arrived: "418"}}},
		{"a code the spec does not list", "getConnector", 404,
			`{"error":{"code":"NotFound","message":"gone","innerError":{"date":"2026-11-28T15:04:05Z","request-id":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}`,
			[]answercheck.Disagreement{{Pointer: "/error/code", Spec: `value is not one of the allowed values ["Request_BadRequest","BadRequest","InvalidAuthenticationToken","Forbidden","Request_ResourceNotFound","MethodNotAllowed","RequestEntityTooLarge","UnsupportedMediaType","InternalServerError","TooManyRequests","BadGateway","ServiceUnavailable","GatewayTimeout"]`, Arrived: `"NotFound"`}}},
		{"$select: only the properties named", "getConnector?$select=id", 200, `{"id":"33333333-3333-4333-8333-333333333333"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			operation, query, _ := strings.Cut(tc.operation, "?")
			req := httptest.NewRequest(http.MethodGet, connector+"?"+query, nil)
			got := c.Check(context.Background(), operation, req, tc.status, json, []byte(tc.body))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
