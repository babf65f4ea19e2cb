package server

import (
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

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

// TestFastPathDeclines: schemas the fast path was not built for are left to
// kin-openapi whole, rather than half-checked.
func TestFastPathDeclines(t *testing.T) {
	str := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
	no := false
	object := func(edit func(s *openapi3.Schema)) *openapi3.Schema {
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject},
			Properties:           openapi3.Schemas{"externalIp": {Value: str}, "machineName": {Value: str}, "status": {Value: str}},
			AdditionalProperties: openapi3.AdditionalProperties{Has: &no}}
		edit(s)
		return s
	}
	for name, s := range map[string]*openapi3.Schema{
		"required but not a property":   object(func(s *openapi3.Schema) { s.Required = []string{"status", "zone"} }),
		"additional properties allowed": object(func(s *openapi3.Schema) { s.AdditionalProperties.Has = nil }),
		"a number property": object(func(s *openapi3.Schema) {
			s.Properties["machineName"] = &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}}}
		}),
		"a pattern": object(func(s *openapi3.Schema) {
			s.Properties["machineName"] = &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Pattern: "^a"}}
		}),
		"a property the struct lacks": object(func(s *openapi3.Schema) { s.Properties["zone"] = &openapi3.SchemaRef{Value: str} }),
	} {
		if _, ok := compileBody(s, reflect.TypeFor[generated.Connector](), FormatValidators()); ok {
			t.Errorf("%s: compiled; want it left to kin-openapi", name)
		}
	}
	if _, ok := compileBody(object(func(*openapi3.Schema) {}), reflect.TypeFor[generated.Connector](), FormatValidators()); !ok {
		t.Error("the plain schema did not compile: the cases above prove nothing")
	}
}
