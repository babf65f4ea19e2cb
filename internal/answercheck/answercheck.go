// Package answercheck checks the answers of a service against the spec's
// responses (status listed, header fields, body schema) with kin-openapi,
// and says each disagreement as a JSON pointer, what the spec says and what
// arrived. The proxy mode of the mock uses it on every proxied answer: the
// requests are checked by the generated validators, but the service's
// answers can be anything, so they are checked against the schemas as
// written, as the tests check the mock's own answers.
package answercheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/connector-group/members-api/internal/reqcheck"
)

// Disagreement is one place where an exchange and the spec differ.
type Disagreement struct {
	// Pointer is where: a JSON pointer into the body ("/value/0/status"),
	// "status" for the status code, or "header <name>".
	Pointer string
	// Spec is what the spec says there.
	Spec string
	// Arrived is what arrived there, cut at 256 bytes.
	Arrived string
}

// Checker checks answers against one spec, by operationId.
type Checker struct {
	// routes are the operations as the spec has them; strict, the same
	// with a $select answer's "or only the properties selected" left out:
	// an answer to a request without $select must be the whole item, so an
	// extra property in it is seen.
	routes, strict map[string]*routers.Route
	opts           *openapi3filter.Options
}

// New makes a checker of the spec load returns. It loads it twice: one
// copy it narrows for answers to requests without $select.
func New(load func() (*openapi3.T, error)) (*Checker, error) {
	c := &Checker{opts: &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(FormatValidators()),
		},
	}}
	for _, to := range []*map[string]*routers.Route{&c.routes, &c.strict} {
		spec, err := load()
		if err != nil {
			return nil, err
		}
		if to == &c.strict {
			narrow(spec)
		}
		*to = map[string]*routers.Route{}
		for path, item := range spec.Paths.Map() {
			for method, op := range item.Operations() {
				// The embedded spec may spell an operationId with a capital
				// (oapi-codegen's), the server as the spec does.
				(*to)[strings.ToLower(op.OperationID)] = &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op}
			}
		}
	}
	return c, nil
}

// selected is the schema of a $select answer's item.
const selected = "#/components/schemas/selectedProperties"

// narrow replaces, in every response of spec, a schema "anyOf: [X,
// selectedProperties]" with X.
func narrow(spec *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(*openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		if any := ref.Value.AnyOf; len(any) == 2 && (any[0].Ref == selected || any[1].Ref == selected) {
			whole := any[0]
			if whole.Ref == selected {
				whole = any[1]
			}
			ref.Value = whole.Value
		}
		seen[ref.Value] = true
		for _, p := range ref.Value.Properties {
			visit(p)
		}
		visit(ref.Value.Items)
		visit(ref.Value.AdditionalProperties.Schema)
		for _, list := range [...]openapi3.SchemaRefs{ref.Value.AllOf, ref.Value.AnyOf, ref.Value.OneOf} {
			for _, s := range list {
				visit(s)
			}
		}
	}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			for _, rsp := range op.Responses.Map() {
				if rsp.Value == nil {
					continue
				}
				for _, media := range rsp.Value.Content {
					visit(media.Schema)
				}
			}
		}
	}
}

// FormatValidators are the string formats as this API defines them, for
// kin-openapi: a "uuid" is a GUID as the real service accepts it (any version
// and variant bits), an "ipv6" has no zone. The generated validator
// implements the same definitions (internal/reqcheck); the tests hold the two
// to each other.
func FormatValidators() map[string]openapi3.StringFormatValidator {
	return map[string]openapi3.StringFormatValidator{
		"uuid": openapi3.NewCallbackValidator(func(s string) error {
			if !reqcheck.IsGUID(s) {
				return errors.New("not a GUID")
			}
			return nil
		}),
		"ipv4": openapi3.NewIPValidator(true),
		"ipv6": openapi3.NewCallbackValidator(func(s string) error {
			if !reqcheck.IsIPv6(s) {
				return errors.New("not an IPv6 address without a zone")
			}
			return nil
		}),
	}
}

// Check checks the answer to req, a request for operation, and returns
// every disagreement (none when the answer is one the spec describes).
func (c *Checker) Check(ctx context.Context, operation string, req *http.Request, status int, header http.Header, body []byte) []Disagreement {
	routes := c.strict
	if req.URL.Query().Has("$select") {
		routes = c.routes
	}
	route, ok := routes[strings.ToLower(operation)]
	if !ok {
		return []Disagreement{{Pointer: "operation", Spec: "an operation of the spec", Arrived: operation}}
	}
	opts := c.opts
	if req.Method == http.MethodHead {
		headOpts := *c.opts
		headOpts.ExcludeResponseBody = true
		opts = &headOpts
	}
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
	if err == nil {
		return nil
	}
	var out []Disagreement
	collect(err, status, &out)
	return out
}

// collect turns kin-openapi's errors into disagreements.
func collect(err error, status int, out *[]Disagreement) {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			collect(e, status, out)
		}
		return
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		path, value, reason := schemaErr.JSONPointer(), schemaErr.Value, schemaErr.Reason
		// kin-openapi says an extra property at its object: said at the property.
		if name, ok := strings.CutPrefix(reason, `property "`); ok && strings.HasSuffix(name, `" is unsupported`) {
			name = strings.TrimSuffix(name, `" is unsupported`)
			path = append(slices.Clone(path), name)
			if object, ok := value.(map[string]any); ok {
				value = object[name]
			}
			reason = "no such property (additionalProperties: false)"
		} else if short, _, ok := strings.Cut(reason, " (string doesn't match pattern"); ok {
			reason = short
		}
		*out = append(*out, Disagreement{Pointer: pointer(path), Spec: reason, Arrived: arrived(value)})
		return
	}
	var rerr *openapi3filter.ResponseError
	if errors.As(err, &rerr) {
		reason := rerr.Reason
		switch {
		case strings.Contains(reason, "status"):
			*out = append(*out, Disagreement{Pointer: "status", Spec: "one of the statuses the operation lists", Arrived: fmt.Sprint(status)})
			return
		case strings.HasPrefix(reason, "response header"):
			name, _, _ := strings.Cut(strings.TrimPrefix(reason, "response header "), " ")
			*out = append(*out, Disagreement{Pointer: "header " + strings.Trim(name, `"`), Spec: reason, Arrived: cut(errText(rerr.Err))})
			return
		}
		if rerr.Err != nil {
			before := len(*out)
			collect(rerr.Err, status, out)
			if len(*out) > before {
				return
			}
		}
		*out = append(*out, Disagreement{Pointer: "body", Spec: reason, Arrived: cut(errText(rerr.Err))})
		return
	}
	*out = append(*out, Disagreement{Pointer: "body", Spec: "what the operation's response describes", Arrived: cut(err.Error())})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// pointer writes path as a JSON pointer.
func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// arrived is a value as JSON, cut at 256 bytes.
func arrived(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return cut(fmt.Sprint(v))
	}
	return cut(string(b))
}

func cut(s string) string {
	if len(s) > 256 {
		return strings.ToValidUTF8(s[:256], "") + "…"
	}
	return s
}
