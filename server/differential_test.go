package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/internal/spectest"
)

// The generated validator is held to kin-openapi, the independent reference:
// for the same request both must accept it or both refuse it, naming the same
// targets. Messages are the project's own and are not compared.
//
// Inputs are left out where this API is deliberately stricter than a JSON
// Schema validator fed by encoding/json v1 (the README, "Hostile input"): a duplicate name,
// invalid UTF-8 or an escaped lone surrogate (v1 keeps the last name and
// stores U+FFFD; the API refuses them), a character outside the Basic
// Multilingual Plane (kin-openapi counts UTF-16 units for minLength and
// maxLength, JSON Schema and this API count characters), an unknown $ option
// or a repeated parameter (kin-openapi ignores them; the API refuses them),
// and a body with more violations than the validator lists. For a body that
// is not one JSON document only the verdict is compared: kin-openapi reads
// the first value and checks it, ignoring what follows (`{} {}`), where the
// API says the body is not JSON.

// kinVerdict is kin-openapi's answer for req: the targets it reports, nil
// when it accepts the request.
func kinVerdict(t *testing.T, req *http.Request) []string {
	t.Helper()
	check := specChecker(t)
	route, params, err := check.Router().FindRoute(req)
	if err != nil {
		t.Fatalf("kin-openapi finds no route for %s %s: %v", req.Method, req.URL, err)
	}
	err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: spectest.ValidationOptions(),
	})
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range flatten(err) {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			t.Fatalf("kin-openapi: an error of type %T: %v", e, e)
		}
		switch {
		case re.Parameter != nil:
			out = append(out, re.Parameter.Name)
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			out = append(out, "")
		default:
			var pe *openapi3filter.ParseError
			if errors.As(re.Err, &pe) {
				out = append(out, "")
				continue
			}
			out = append(out, schemaTargets(re.Err)...)
		}
	}
	return normalize(out)
}

// decodeNumbers decodes JSON keeping numbers as written (1.5e400 is a
// number, if not a float64).
func decodeNumbers(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	return d.Decode(v)
}

// schemaTargets are the JSON pointers of kin-openapi's schema errors.
func schemaTargets(err error) []string {
	var out []string
	for _, se := range flatten(err) {
		var schemaErr *openapi3.SchemaError
		if !errors.As(se, &schemaErr) {
			out = append(out, "")
			continue
		}
		path := schemaErr.JSONPointer()
		switch schemaErr.SchemaField {
		case "required", "additionalProperties", "properties":
			if name := quotedName(schemaErr.Reason); len(path) == 0 || path[len(path)-1] != name {
				path = append(path, name)
			}
		}
		out = append(out, pointer(path))
	}
	return out
}

// kinFormVerdict is kin-openapi's verdict on a body of the add that fits no
// form of its oneOf. kin-openapi says only that ("" alone); the generated
// validator names the violations of the form the body's own property names
// select, so the reference for those is kin-openapi's check of the body
// against that form's schema alone. A body that selects no form is compared
// on the refusal alone.
func kinFormVerdict(t *testing.T, body []byte, got []string) []string {
	t.Helper()
	var value map[string]any
	if decodeNumbers(body, &value) != nil {
		return []string{""}
	}
	schemas := specChecker(t).Spec().Components.Schemas
	connector := schemas["connector"].Value
	_, reference := value["@odata.id"]
	named := false
	for name := range value {
		if _, ok := connector.Properties[name]; ok {
			named = true
		}
	}
	var form *openapi3.Schema
	switch {
	case named && !reference:
		form = connector
	case reference && !named:
		form = schemas["referenceCreate"].Value
	default:
		if len(got) > 0 && got[0] == "" {
			return got // refused as fitting no form: what each form finds wrong is the generated validator's own
		}
		return []string{""}
	}
	var generic any
	_ = decodeNumbers(body, &generic)
	err := form.VisitJSON(generic, openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails(),
		openapi3.WithStringFormatValidators(spectest.FormatValidators()))
	if err == nil {
		t.Fatalf("kin-openapi refuses %s as fitting no form, but it fits one alone", body)
	}
	return normalize(schemaTargets(err))
}

// flatten unrolls kin-openapi's MultiErrors.
func flatten(err error) []error {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// quotedName finds the name in kin-openapi's reasons such as
// `property "x" is missing`, Go-quoted there.
func quotedName(reason string) string {
	i := strings.IndexByte(reason, '"')
	if i < 0 {
		return ""
	}
	quoted, err := strconv.QuotedPrefix(reason[i:])
	if err != nil {
		return ""
	}
	name, _ := strconv.Unquote(quoted)
	return name
}

// pointer renders a JSON pointer (RFC 6901), shortened as the API shortens it.
func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(reqcheck.Shorten(p), "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// normalize is a set of targets, sorted.
func normalize(targets []string) []string {
	slices.Sort(targets)
	return slices.Compact(targets)
}

// generatedVerdict is the generated validator's answer for req.
func generatedVerdict(req *http.Request, pathParams map[string]string, body []byte) ([]string, int) {
	var op reqcheck.Operation
	for _, o := range validation.Operations() {
		if o.Method == req.Method && o.ID == map[string]string{http.MethodPost: "addConnectorGroupMember", http.MethodGet: "listConnectorGroupMembers"}[req.Method] {
			op = o
		}
	}
	in := reqcheck.Input{Path: mapParams(pathParams), Header: req.Header.Clone(), Body: body}
	in.Query, _ = url.ParseQuery(req.URL.RawQuery)
	var vs reqcheck.Violations
	op.Check(&in, &vs)
	var out []string
	for _, v := range vs.List() {
		out = append(out, v.Target)
	}
	return normalize(out), vs.Len()
}

// comparable says whether the two validators are meant to agree on body.
func comparable(body []byte) bool {
	if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u`)) && bytes.ContainsAny(body, "dD") {
		return false // escapes that might be surrogates, decoded differently by design
	}
	for _, r := range string(body) {
		if r > 0xFFFF {
			return false
		}
	}
	// A duplicate name anywhere: jsontext refuses it, v1 keeps the last.
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	for {
		_, err := dec.ReadToken()
		if err != nil {
			return !errors.Is(err, jsontext.ErrDuplicateName)
		}
	}
}

func FuzzValidatorAgreesWithKin(f *testing.F) {
	for _, seed := range []string{
		validBody, pageExample, `{}`, `[]`, `null`, `"x"`, `{"status":null}`, `{"status":1}`,
		`{"externalIp":"::1","machineName":"","status":"inactive","id":"x"}`,
		`{"externalIp":"fe80::1%eth0","machineName":"m","status":"active"}`,
		`{"@odata.type":"#microsoft.graph.user","a":{"b":[1,2]}}`, `{"externalIp":1.5e400}`, `{`, ``, `{} {}`,
	} {
		f.Add([]byte(seed), "$top=5", "return=representation")
	}
	f.Add([]byte(validBody), "$top=0&$skiptoken=", "a,b")
	f.Add([]byte(validBody), "$top=1.0", "")
	f.Add([]byte(validBody), "$top=%2B5&$skiptoken="+strings.Repeat("x", 65), strings.Repeat("p", 257))
	f.Fuzz(func(t *testing.T, body []byte, query, prefer string) {
		if !comparable(body) || !utf8.ValidString(query) || !utf8.ValidString(prefer) {
			t.Skip()
		}
		values, err := url.ParseQuery(query)
		if err != nil {
			t.Skip()
		}
		for name, vals := range values {
			if len(vals) > 1 || strings.HasPrefix(name, "$") && name != "$top" && name != "$skiptoken" {
				t.Skip()
			}
		}
		if strings.ContainsAny(prefer, "\r\n\x00") || strings.TrimSpace(prefer) != prefer {
			t.Skip()
		}
		// The add: its body and Prefer.
		add := newRequest(http.MethodPost, addPath(testApp), bytes.NewReader(body))
		add.Header.Set("Content-Type", "application/json")
		if prefer != "" {
			add.Header.Set("Prefer", prefer)
		}
		want := kinVerdict(t, add)
		got, n := generatedVerdict(add, map[string]string{"applicationsId": testApp}, body)
		if slices.Equal(want, []string{""}) && json.Valid(body) {
			want = kinFormVerdict(t, body, got)
		}
		if n >= reqcheck.MaxViolations {
			t.Skip()
		}
		if !json.Valid(body) && len(body) > 0 {
			if got == nil || want == nil {
				t.Errorf("add with body %q (not JSON): generated %q, kin %q; both must refuse it", body, got, want)
			}
		} else if !slices.Equal(got, want) {
			t.Errorf("add with body %q, Prefer %q:\ngenerated: %q\nkin:       %q", body, prefer, got, want)
		}
		// The list: its query.
		list := newRequest(http.MethodGet, listPath(testApp)+"?"+values.Encode(), nil)
		want = kinVerdict(t, list)
		got, _ = generatedVerdict(list, map[string]string{"applicationsId": testApp}, nil)
		if !slices.Equal(got, want) {
			t.Errorf("list with query %q:\ngenerated: %q\nkin:       %q", values.Encode(), got, want)
		}
	})
}

// mapParams gives path parameters from a map.
type mapParams map[string]string

func (m mapParams) PathParam(name string) string { return m[name] }
