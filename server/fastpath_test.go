package server

import (
	"reflect"
	"strings"
	"testing"

	"github.com/connector-group/members-api/generated"
)

// TestFastPathCoversTheSpec makes sure the fast path compiles for the add
// operation as the spec stands (it silently declines schemas it was not built
// for, which would only make the server slower) and gives the expected verdicts.
func TestFastPathCoversTheSpec(t *testing.T) {
	spec, err := generated.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	op := specOperations(spec)["POST /applications/:applicationsId/connectorGroup/members/$ref"]
	params, ok := compileParams(op.route.PathItem, op.route.Operation, FormatValidators())
	if !ok || len(params) != 3 {
		t.Fatalf("the add operation's parameters did not compile: %v %+v", ok, params)
	}
	schema := op.route.Operation.RequestBody.Value.Content.Get("application/json").Schema.Value
	body, ok := compileBody(schema, reflect.TypeFor[generated.Connector](), FormatValidators())
	if !ok {
		t.Fatal("the connector schema did not compile for the fast path")
	}
	cases := []struct {
		body    string
		verdict fastVerdict
		targets []string
	}{
		{`{"externalIp":"203.0.113.7","machineName":"m","status":"active"}`, fastValid, nil},
		{` {"id":"72bb7735-7735-72bb-3577-bb723577bb72", "externalIp":"::1","machineName":"m","status":"inactive","@odata.type":"#microsoft.graph.connector"} `, fastValid, nil},
		{`{"@odata.type": "#microsoft.graph.connector", "externalIp": "String", "machineName": "String", "status": "String"}`, fastInvalid, []string{"/externalIp", "/status"}},
		{`{}`, fastInvalid, []string{"/externalIp", "/machineName", "/status"}},
		{`{"externalIp":"1.2.3.4","machineName":"m","STATUS":"active"}`, fastInvalid, []string{"/STATUS", "/status"}},
		{`{"externalIp":"1.2.3.4","machineName":"m","status":null}`, fastUnsure, nil},
		{`{"externalIp":"1.2.3.4","machineName":"m\u0041","status":"active"}`, fastUnsure, nil},
		{`{"externalIp":"1.2.3.4","machineName":"m","status":"active"} x`, fastUnsure, nil},
		{`{"externalIp":"1.2.3.4","externalIp":"1.2.3.4","machineName":"m","status":"active"}`, fastUnsure, nil},
		{`[]`, fastUnsure, nil},
		{``, fastUnsure, nil},
	}
	for _, tc := range cases {
		verdict, value, details := body.check([]byte(tc.body))
		if verdict != tc.verdict {
			t.Errorf("%s: verdict %d, want %d", tc.body, verdict, tc.verdict)
			continue
		}
		var got []string
		for _, d := range details {
			got = append(got, targetOf(d))
		}
		if strings.Join(got, " ") != strings.Join(tc.targets, " ") {
			t.Errorf("%s: targets %q, want %q", tc.body, got, tc.targets)
		}
		if verdict == fastValid {
			c := value.Interface().(*generated.Connector)
			if c.ExternalIP == "" || c.MachineName != "m" || c.Status == "" {
				t.Errorf("%s: decoded %+v", tc.body, c)
			}
		}
	}
}
