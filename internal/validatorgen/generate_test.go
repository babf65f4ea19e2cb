package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const (
	goldenImport       = "github.com/connector-group/members-api/internal/validatorgen/testdata/golden/models"
	goldenServerImport = "github.com/connector-group/members-api/internal/validatorgen/testdata/golden/server"
)

// modelsFor writes the models oapi-codegen makes of doc, as `make generate`
// configures it, and reads them back as the generator does.
func modelsFor(t *testing.T, doc *openapi3.T) ([]byte, *models) {
	t.Helper()
	src, err := codegen.Generate(copyOf(t, doc), codegen.Configuration{
		PackageName:   "models",
		Generate:      codegen.GenerateOptions{Models: true},
		Compatibility: codegen.CompatibilityOptions{AlwaysPrefixEnumValues: true},
		OutputOptions: codegen.OutputOptions{NameNormalizer: "ToCamelCaseWithInitialisms", SkipPrune: true},
	})
	if err != nil {
		t.Fatalf("oapi-codegen: %v", err)
	}
	m, err := parseModels("models.gen.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(src), m
}

// serverFor writes the Echo server interface oapi-codegen makes of doc, as
// `make generate` configures it (the models imported without a qualifier),
// and reads it back as the generator does.
func serverFor(t *testing.T, doc *openapi3.T) ([]byte, *serverAPI) {
	t.Helper()
	src, err := codegen.Generate(copyOf(t, doc), codegen.Configuration{
		PackageName:       "server",
		Generate:          codegen.GenerateOptions{EchoServer: true},
		Compatibility:     codegen.CompatibilityOptions{AlwaysPrefixEnumValues: true},
		OutputOptions:     codegen.OutputOptions{NameNormalizer: "ToCamelCaseWithInitialisms", SkipPrune: true},
		AdditionalImports: []codegen.AdditionalImport{{Alias: ".", Package: goldenImport}},
	})
	if err != nil {
		t.Fatalf("oapi-codegen: %v", err)
	}
	api, err := parseServer("server.gen.go", goldenServerImport, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(src), api
}

// copyOf is doc loaded afresh: oapi-codegen rewrites the operationIds of the
// document it is given (addThing becomes AddThing), which the generator must
// not see.
func copyOf(t *testing.T, doc *openapi3.T) *openapi3.T {
	t.Helper()
	data, err := doc.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return loadData(t, data)
}

func loadData(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// generateFor runs the generator on a spec, returning its formatted output.
func generateFor(t *testing.T, spec string) (output, error) {
	t.Helper()
	doc := loadData(t, []byte(spec))
	_, m := modelsFor(t, doc)
	_, api := serverFor(t, doc)
	out, err := generate(doc, m, goldenImport, api, "validation", "thing.yaml")
	if err != nil {
		return out, err
	}
	for _, src := range []*[]byte{&out.validation, &out.values} {
		formatted, err := format.Source(*src)
		if err != nil {
			t.Fatalf("the generated code does not parse: %v\n%s", err, numbered(*src))
		}
		*src = formatted
	}
	return out, nil
}

// TestGolden generates testdata/golden.yaml, a spec that uses every rule,
// and compares the output with the package in testdata/golden, which
// `go vet` then compiles and checks: no unused local, no dead code a
// generator quirk could leave. To accept a change: go test ./internal/validatorgen/ -run TestGolden -update
func TestGolden(t *testing.T) {
	spec, err := os.ReadFile("testdata/golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := loadData(t, spec)
	modelsSrc, m := modelsFor(t, doc)
	serverSrc, api := serverFor(t, doc)
	out, err := generate(doc, m, goldenImport, api, "validation", "testdata/golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"testdata/golden/models/models.gen.go":         modelsSrc,
		"testdata/golden/server/server.gen.go":         serverSrc,
		"testdata/golden/models/values.gen.go":         out.values,
		"testdata/golden/validation/validation.gen.go": out.validation,
	}
	for path, src := range files {
		formatted, err := format.Source(src)
		if err != nil {
			t.Fatalf("%s does not parse: %v", path, err)
		}
		if *update {
			if err := os.WriteFile(path, formatted, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/validatorgen/ -run TestGolden -update)", err)
		}
		if !bytes.Equal(formatted, want) {
			t.Errorf("%s differs from what the generator writes now (go test ./internal/validatorgen/ -run TestGolden -update, then read the diff)", path)
		}
	}
	if testing.Short() {
		return
	}
	vet := exec.Command("go", "vet", "./testdata/golden/models", "./testdata/golden/server", "./testdata/golden/validation")
	if out, err := vet.CombinedOutput(); err != nil {
		t.Errorf("go vet of the golden output: %v\n%s", err, out)
	}
}

// thingSpec is a spec whose one body property, value, has the schema given.
func thingSpec(schema string) string {
	return `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      operationId: addThing
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/thing'}
      responses:
        '204': {description: added}
components:
  schemas:
    thing:
      type: object
      properties:
        value: ` + schema + "\n"
}

// bodySpec is a spec whose request body has the schema given, with two
// component objects, a and b, to refer to.
func bodySpec(schema string) string {
	return `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      operationId: addThing
      requestBody:
        required: true
        content:
          application/json:
            schema: ` + schema + `
      responses:
        '204': {description: added}
components:
  schemas:
    a: {type: object, additionalProperties: false, required: [x], properties: {x: {type: string}}}
    b: {type: object, additionalProperties: false, required: [y], properties: {y: {type: string}}}
`
}

// keywordCases has, for every keyword the generator accepts, a schema
// without it and the same schema with it, and what the code with it says;
// in thingSpec unless spec says otherwise.
var keywordCases = map[string]struct {
	without, with, says string
	spec                func(string) string
}{
	"type":                 {`{}`, `{type: string}`, `d.String()`, nil},
	"nullable":             {`{type: string}`, `{type: string, nullable: true}`, `d.IsNull()`, nil},
	"readOnly":             {`{type: string}`, `{type: string, readOnly: true}`, `d.ReadOnly()`, nil},
	"properties":           {`{type: object}`, `{type: object, properties: {a: {type: string}}}`, `case "a":`, nil},
	"required":             {`{type: object, properties: {a: {type: string}}}`, `{type: object, required: [a], properties: {a: {type: string}}}`, `d.Missing("a")`, nil},
	"additionalProperties": {`{type: object, properties: {a: {type: string}}}`, `{type: object, properties: {a: {type: string}}, additionalProperties: false}`, `d.Unknown()`, nil},
	"items":                {`{type: array, items: {}}`, `{type: array, items: {type: string}}`, `d.Element()`, nil},
	"minItems":             {`{type: array, items: {type: string}}`, `{type: array, items: {type: string}, minItems: 2}`, `reqcheck.MsgMinItems(2)`, nil},
	"maxItems":             {`{type: array, items: {type: string}}`, `{type: array, items: {type: string}, maxItems: 3}`, `reqcheck.MsgMaxItems(3)`, nil},
	"minProperties":        {`{type: object, additionalProperties: {type: string}}`, `{type: object, additionalProperties: {type: string}, minProperties: 1}`, `reqcheck.MsgMinProperties(1)`, nil},
	"maxProperties":        {`{type: object, additionalProperties: {type: string}}`, `{type: object, additionalProperties: {type: string}, maxProperties: 4}`, `d.SkipEntry()`, nil},
	"anyOf":                {`{type: string}`, `{type: string, anyOf: [{format: ipv4}, {format: uuid}]}`, `reqcheck.MsgAlternatives(value, "ipv4 or uuid")`, nil},
	"enum":                 {`{type: string}`, `{type: string, enum: [a, b]}`, `reqcheck.MsgEnum(value, "a, b")`, nil},
	"minLength":            {`{type: string}`, `{type: string, minLength: 2}`, `reqcheck.MsgMinLength(2)`, nil},
	"maxLength":            {`{type: string}`, `{type: string, maxLength: 9}`, `reqcheck.MsgMaxLength(9)`, nil},
	"pattern":              {`{type: string}`, `{type: string, pattern: '^x+$'}`, `valuePattern.MatchString(value)`, nil},
	"format":               {`{type: string}`, `{type: string, format: ipv6}`, `reqcheck.IsIPv6(value)`, nil},
	"minimum":              {`{type: integer}`, `{type: integer, minimum: 3}`, `reqcheck.MsgMinimum(text, "3", false)`, nil},
	"maximum":              {`{type: integer}`, `{type: integer, maximum: 7}`, `reqcheck.MsgMaximum(text, "7", false)`, nil},
	"exclusiveMinimum":     {`{type: number, minimum: 3}`, `{type: number, minimum: 3, exclusiveMinimum: true}`, `reqcheck.MsgMinimum(text, "3", true)`, nil},
	"exclusiveMaximum":     {`{type: number, maximum: 7}`, `{type: number, maximum: 7, exclusiveMaximum: true}`, `reqcheck.MsgMaximum(text, "7", true)`, nil},
	"oneOf": {`{$ref: '#/components/schemas/a'}`, `{oneOf: [{$ref: '#/components/schemas/a'}, {$ref: '#/components/schemas/b'}]}`,
		`{Name: "b", Only: `, bodySpec},
}

// TestEveryKeywordHasARule: the keywords the generator accepts are exactly
// those of its rules and the annotations (supportedKeywords derives them;
// nothing else lists them), each keyword belongs to one rule, and adding any
// rule keyword to a schema changes the code, which then says what the case
// expects. A keyword accepted without a check behind it would leave the code
// unchanged, and fail here; one without a case fails here too.
func TestEveryKeywordHasARule(t *testing.T) {
	owner := map[string]int{}
	for i, r := range keywordRules() {
		for _, k := range r.keywords {
			if j, ok := owner[k]; ok {
				t.Errorf("keyword %q belongs to rules %d and %d", k, j, i)
			}
			owner[k] = i
		}
	}
	for _, k := range supportedKeywords() {
		if _, ok := owner[k]; !ok && !slices.Contains(annotations, k) {
			t.Errorf("keyword %q is accepted but no rule reads it", k)
		}
		if _, ok := owner[k]; ok && !slices.Contains(annotations, k) {
			if _, ok := keywordCases[k]; !ok {
				t.Errorf("keyword %q has no case in keywordCases: show what it generates", k)
			}
		}
	}
	for keyword, c := range keywordCases {
		t.Run(keyword, func(t *testing.T) {
			spec := c.spec
			if spec == nil {
				spec = thingSpec
			}
			without, errWithout := generateFor(t, spec(c.without))
			with, err := generateFor(t, spec(c.with))
			if err != nil {
				t.Fatalf("with %s: %v", keyword, err)
			}
			if errWithout == nil && bytes.Equal(without.validation, with.validation) {
				t.Fatalf("adding %s changed nothing in the generated code", keyword)
			}
			if !bytes.Contains(with.validation, []byte(c.says)) {
				t.Errorf("with %s the code does not say %s:\n%s", keyword, c.says, with.validation)
			}
		})
	}
}

// TestAnnotationsChangeNothing: the annotation keywords are accepted and
// leave the validators as they are.
func TestAnnotationsChangeNothing(t *testing.T) {
	base, err := generateFor(t, thingSpec(`{type: string}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{
		`{type: string, description: d, title: t, example: e, default: x, deprecated: true}`,
		`{type: string, externalDocs: {url: 'https://example.com'}}`,
	} {
		out, err := generateFor(t, thingSpec(schema))
		if err != nil {
			t.Fatalf("%s: %v", schema, err)
		}
		if !bytes.Equal(out.validation, base.validation) {
			t.Errorf("%s changed the validators", schema)
		}
	}
}

// TestRefusesWhatItCannotCheck: a keyword without a rule, a format it does
// not know, or a rule where it cannot apply fails the generation, naming
// the keyword and the schema. main exits 1 with that message, and go
// generate (make generate) stops at a directive that fails: the rule is
// never left unchecked.
func TestRefusesWhatItCannotCheck(t *testing.T) {
	const where = "#/components/schemas/thing.properties.value"
	for _, c := range []struct{ schema, keyword string }{
		{`{type: string, not: {enum: [a]}}`, `keyword "not"`},
		{`{type: integer, multipleOf: 3}`, `keyword "multipleOf"`},
		{`{oneOf: [{type: string}, {type: integer}]}`, `keyword "oneOf"`},
		{`{type: array, items: {type: string}, uniqueItems: true}`, `keyword "uniqueItems"`},
		{`{type: string, format: email}`, `keyword "format" is not implemented by the validator generator (format "email")`},
		{`{type: string, anyOf: [{type: string, not: {enum: [a]}}]}`, `keyword "not"`},
		{`{type: string, anyOf: [{type: integer}]}`, `anyOf branches of type integer`},
		{`{type: object, properties: {a: {type: string}}, additionalProperties: {type: string}}`, `additionalProperties with a schema beside properties`},
		{`{type: object, properties: {a: {type: string}}, maxProperties: 3}`, `an object that is no map`},
		{`{oneOf: [{$ref: '#/components/schemas/thing'}]}`, `oneOf below the request body`},
	} {
		_, err := generateFor(t, thingSpec(c.schema))
		var unsupported *unsupportedError
		if err == nil || !errors.As(err, &unsupported) {
			t.Errorf("%s: generated (err %v), want a refusal", c.schema, err)
			continue
		}
		if !strings.Contains(err.Error(), c.keyword) || !strings.Contains(err.Error(), where) {
			t.Errorf("%s: %v\nwant it to name %s at %s", c.schema, err, c.keyword, where)
		}
	}
}

// TestLocalsAreNamedForTheirProperty: adding a property changes the lines
// of that property only; no other local is renumbered.
func TestLocalsAreNamedForTheirProperty(t *testing.T) {
	const props = `{type: object, properties: {b: {type: string, maxLength: 3}, d: {type: integer, minimum: 1}}}`
	const more = `{type: object, properties: {b: {type: string, maxLength: 3}, c: {type: string, minLength: 1}, d: {type: integer, minimum: 1}}}`
	before, err := generateFor(t, thingSpec(props))
	if err != nil {
		t.Fatal(err)
	}
	after, err := generateFor(t, thingSpec(more))
	if err != nil {
		t.Fatal(err)
	}
	removed, added := lineDiff(string(before.validation), string(after.validation))
	if len(removed) > 0 {
		t.Errorf("adding property c removed or changed lines: %q", removed)
	}
	own := regexp.MustCompile(`\bc\b|\bo\.C\b|"c"|length|reqcheck\.Msg|^\s*}$`)
	for _, l := range added {
		if !own.MatchString(l) {
			t.Errorf("adding property c added a line that is not its own: %q", l)
		}
	}
}

// lineDiff is the lines only in a and the lines only in b, by a longest
// common subsequence (the outputs are small).
func lineDiff(a, b string) (onlyA, onlyB []string) {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i] == y[j]:
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			onlyA = append(onlyA, x[i])
			i++
		default:
			onlyB = append(onlyB, y[j])
			j++
		}
	}
	return append(onlyA, x[i:]...), append(onlyB, y[j:]...)
}

// TestRunWritesBothFiles runs the command's run as go generate does.
func TestRunWritesBothFiles(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "thing.yaml")
	if err := os.WriteFile(spec, []byte(thingSpec(`{type: string, enum: [a]}`)), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := loadData(t, []byte(thingSpec(`{type: string, enum: [a]}`)))
	modelsSrc, _ := modelsFor(t, doc)
	serverSrc, _ := serverFor(t, doc)
	models, server := filepath.Join(dir, "models.gen.go"), filepath.Join(dir, "server.gen.go")
	for path, src := range map[string][]byte{models: modelsSrc, server: serverSrc} {
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, values := filepath.Join(dir, "validation.gen.go"), filepath.Join(dir, "values.gen.go")
	if err := run(spec, models, goldenImport, server, goldenServerImport, "validation", out, values); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{out, values} {
		if info, err := os.Stat(path); err != nil || info.Size() == 0 {
			t.Errorf("%s not written: %v", path, err)
		}
	}
}

// TestRecursiveSchema: a schema that contains itself is one decode function
// that calls itself, not an endless generator.
func TestRecursiveSchema(t *testing.T) {
	out, err := generateFor(t, thingSpec(`{type: array, items: {$ref: '#/components/schemas/thing'}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.validation, []byte("decodeThing(d, item)")) {
		t.Errorf("the recursion is not a call:\n%s", out.validation)
	}
}

func TestFormsExclusive(t *testing.T) {
	object := func(closed bool, required []string, names ...string) *node {
		n := &node{typ: "object", closed: closed, required: required}
		for _, name := range names {
			n.properties = append(n.properties, property{name: name, value: &node{typ: "string"}})
		}
		return n
	}
	connector := object(true, []string{"status"}, "id", "status")
	reference := object(true, []string{"@odata.id"}, "@odata.id")
	for _, c := range []struct {
		name  string
		forms []*node
		want  bool
	}{
		{"each requires what the other forbids", []*node{connector, reference}, true},
		{"one side suffices", []*node{connector, object(false, []string{"@odata.id"}, "@odata.id")}, true},
		{"open on both sides", []*node{object(false, []string{"a"}, "a"), object(false, []string{"b"}, "b")}, false},
		{"the required property is allowed by the other", []*node{object(true, []string{"a"}, "a", "b"), object(true, []string{"b"}, "a", "b")}, false},
		{"nothing required", []*node{object(true, nil, "a"), object(true, nil, "b")}, false},
		{"a third form overlapping one", []*node{connector, reference, object(true, []string{"id"}, "id", "status")}, false},
	} {
		forms := make([]oneOfForm, len(c.forms))
		for i, n := range c.forms {
			forms[i] = oneOfForm{name: fmt.Sprint(i), value: n}
		}
		if got := formsExclusive(forms); got != c.want {
			t.Errorf("%s: formsExclusive = %t, want %t", c.name, got, c.want)
		}
	}
}
