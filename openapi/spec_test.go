package openapi_test

import (
	"context"
	"os"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/connector-group/members-api/internal/spectest"
	"github.com/connector-group/members-api/openapi"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(openapi.YAML)
	if err != nil {
		t.Fatalf("loading openapi/connector.yaml: %v", err)
	}
	return spec
}

// TestSpecValid is the spec's lint: kin-openapi validates the document,
// examples included, and every example must also pass the string formats the
// server checks (uuid, ipv4, ipv6), which the plain validation skips.
func TestSpecValid(t *testing.T) {
	spec := load(t)
	if err := spec.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("the spec is invalid: %v", err)
	}
	formats := openapi3.WithStringFormatValidators(spectest.FormatValidators())
	checked := 0
	checkContent := func(where string, content openapi3.Content) {
		for mediaType, mt := range content {
			for name, ex := range mt.Examples {
				if ex.Value == nil || mt.Schema == nil {
					continue
				}
				if err := mt.Schema.Value.VisitJSON(ex.Value.Value, openapi3.MultiErrors(), formats); err != nil {
					t.Errorf("%s %s example %q: %v", where, mediaType, name, err)
				}
				checked++
			}
		}
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.RequestBody != nil {
				checkContent(where+" request", op.RequestBody.Value.Content)
			}
			for status, rsp := range op.Responses.Map() {
				checkContent(where+" "+status, rsp.Value.Content)
			}
			for _, p := range op.Parameters {
				for name, ex := range p.Value.Examples {
					if err := p.Value.Schema.Value.VisitJSON(ex.Value.Value, formats); err != nil {
						t.Errorf("%s parameter %s example %q: %v", where, p.Value.Name, name, err)
					}
					checked++
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d examples checked; the walk is missing them", checked)
	}
}

// TestSpecOperations pins what the README promises: the four member operations
// with their operationIds, each requiring the bearer token, and the shared
// error responses.
func TestSpecOperations(t *testing.T) {
	spec := load(t)
	want := map[string]string{
		"POST /applications/{applicationsId}/connectorGroup/members/$ref":                 "addConnectorGroupMember",
		"GET /applications/{applicationsId}/connectorGroup/members":                       "listConnectorGroupMembers",
		"GET /applications/{applicationsId}/connectorGroup/members/{connectorId}":         "getConnectorGroupMember",
		"DELETE /applications/{applicationsId}/connectorGroup/members/{connectorId}/$ref": "removeConnectorGroupMember",
	}
	for key, id := range want {
		var found bool
		for path, item := range spec.Paths.Map() {
			for method, op := range item.Operations() {
				if method+" "+path == key {
					found = true
					if op.OperationID != id {
						t.Errorf("%s: operationId %q, want %q", key, op.OperationID, id)
					}
					if op.Security != nil && len(*op.Security) == 0 {
						t.Errorf("%s does not require authentication", key)
					}
					if op.Responses.Status(401) == nil || op.Responses.Status(400) == nil || op.Responses.Status(500) == nil {
						t.Errorf("%s lacks a 400, 401 or 500 response", key)
					}
				}
			}
		}
		if !found {
			t.Errorf("the spec lacks %s", key)
		}
	}
	for _, name := range []string{"BadRequest", "Unauthorized", "NotFound", "MethodNotAllowed", "PayloadTooLarge", "UnsupportedMediaType", "InternalServerError"} {
		if spec.Components.Responses[name] == nil {
			t.Errorf("components/responses lacks %s", name)
		}
	}
}

// TestSpecHasNoMergeKeys: YAML merge keys (`<<: *anchor`) are YAML 1.1, not
// 1.2, and the OpenAPI tools outside Go read them as a key named "<<" (the
// documents then fail validation in swagger-parser, as Mockoon's importer
// did); shared parts are $refs to components, or a whole value's alias.
func TestSpecHasNoMergeKeys(t *testing.T) {
	for _, name := range []string{"connector.yaml", "admin.yaml"} {
		doc, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(doc, &root); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var visit func(n *yaml.Node)
		visit = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if k := n.Content[i]; k.Tag == "!!merge" || k.Value == "<<" {
						t.Errorf("%s line %d: a YAML merge key", name, k.Line)
					}
				}
			}
			for _, c := range n.Content {
				visit(c)
			}
		}
		visit(&root)
	}
}
