// Package spectest checks HTTP responses against the embedded OpenAPI
// document with kin-openapi's openapi3filter.ValidateResponse. Tests use it on
// every response they receive, so the server cannot send what the spec does
// not describe.
package spectest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/connector-group/members-api/internal/answercheck"

	"github.com/connector-group/members-api/generated/admin/adminserver"
	"github.com/connector-group/members-api/generated/echoapi"
)

// Checker validates responses against the spec, and those of the admin API
// against its own. It finds each request's operation with kin-openapi's own
// router, independently of the server's.
type Checker struct {
	spec        *openapi3.T
	adminSpec   *openapi3.T
	router      routers.Router
	adminRouter routers.Router
	opts        *openapi3filter.Options
}

// asText makes kin-openapi read the bodies the spec declares as strings (the
// YAML document, the pages and their files) as the text or bytes they are,
// rather than decode the YAML or refuse a type it has no decoder for.
var asText sync.Once

// textTypes are the media types read so.
var textTypes = []string{"application/yaml", "text/html", "text/css", "text/javascript", "application/javascript", "image/png", "text/plain"}

// New loads the embedded specs. Their servers are dropped so that any host matches.
func New() (*Checker, error) {
	asText.Do(func() {
		for _, mediaType := range textTypes {
			openapi3filter.RegisterBodyDecoder(mediaType,
				func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
					b, err := io.ReadAll(body)
					return string(b), err
				})
		}
	})
	spec, err := echoapi.GetSpec()
	if err != nil {
		return nil, err
	}
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	adminSpec, err := adminserver.GetSpec()
	if err != nil {
		return nil, err
	}
	adminSpec.Servers = nil
	adminRouter, err := gorillamux.NewRouter(adminSpec)
	if err != nil {
		return nil, err
	}
	return &Checker{spec: spec, adminSpec: adminSpec, router: router, adminRouter: adminRouter, opts: &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(FormatValidators()),
		},
	}}, nil
}

// FormatValidators are the string formats as this API defines them:
// answercheck's, which the proxy uses at run time.
func FormatValidators() map[string]openapi3.StringFormatValidator {
	return answercheck.FormatValidators()
}

// ValidationOptions are the kin-openapi options that check a request as the
// server does: every violation, no schema dumps, the formats above.
func ValidationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:          true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
			openapi3.WithStringFormatValidators(FormatValidators()),
		},
	}
}

// Spec is the embedded spec as the checker reads it, its servers dropped.
func (c *Checker) Spec() *openapi3.T { return c.spec }

// AdminSpec is the admin API's embedded spec, its servers dropped.
func (c *Checker) AdminSpec() *openapi3.T { return c.adminSpec }

// Router is kin-openapi's router over the spec.
func (c *Checker) Router() routers.Router { return c.router }

// componentForStatus names the shared response a request that matches no
// operation must be answered with: a path the API does not have (Graph's
// 400 BadRequest naming the segment), a publishing profile the API does not
// serve (404), a wrong method (405).
var componentForStatus = map[int]string{
	http.StatusBadRequest:       "BadRequest",
	http.StatusNotFound:         "NotFound",
	http.StatusForbidden:        "Forbidden",
	http.StatusMethodNotAllowed: "MethodNotAllowed",
}

// Check validates one response to req against the spec. A HEAD request is
// checked against its own operation, whose responses have no content, and
// must come without a body.
func (c *Checker) Check(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	opts := c.opts
	if req.Method == http.MethodHead {
		if len(body) > 0 {
			return fmt.Errorf("HEAD %s: a body of %d bytes", req.URL.Path, len(body))
		}
		// A HEAD no operation has (a 405, a path the API does not have) is
		// checked against the shared response, which has content.
		headOpts := *c.opts
		headOpts.ExcludeResponseBody = true
		opts = &headOpts
	}
	router := c.router
	if strings.HasPrefix(req.URL.Path, "/_admin/") || req.URL.Path == "/_admin" {
		router = c.adminRouter
	}
	// The member operations are served under /beta and /v1.0 too, as the
	// spec's servers list them: route such a request as its path without.
	for _, prefix := range []string{"/beta/", "/v1.0/"} {
		if rest, ok := strings.CutPrefix(req.URL.Path, prefix); ok {
			unprefixed := req.Clone(ctx)
			unprefixed.URL.Path, unprefixed.URL.RawPath = "/"+rest, ""
			req = unprefixed
		}
	}
	// The server reads the OData segment %24ref as $ref (README); the
	// router matches the escaped path, so it is given the segment unescaped.
	if raw := req.URL.RawPath; strings.Contains(raw, "%24") && !strings.Contains(strings.ReplaceAll(raw, "%24", ""), "%") {
		plain := req.Clone(ctx)
		plain.URL.RawPath = ""
		req = plain
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// No operation: the answer must be the documented 400 or 405.
		name, ok := componentForStatus[status]
		if !ok {
			return fmt.Errorf("%s %s matches no operation (%v) but got %d", req.Method, req.URL.Path, err, status)
		}
		ref := c.spec.Components.Responses[name]
		if ref == nil {
			return fmt.Errorf("the spec has no components/responses/%s", name)
		}
		op := &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(status, ref))}
		route = &routers.Route{Spec: c.spec, Path: req.URL.Path, Method: req.Method, Operation: op,
			PathItem: &openapi3.PathItem{}}
	}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	})
}

// MustCheck fails t when the response does not conform.
func (c *Checker) MustCheck(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := c.Check(req.Context(), req, status, header, body); err != nil {
		t.Errorf("%s %s: %d response does not conform to the spec: %v", req.Method, req.URL, status, err)
	}
}

// Transport is an http.RoundTripper that checks every response it carries
// and reports a nonconforming one to t.
type Transport struct {
	Checker *Checker
	T       testing.TB
	Base    http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (tr *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := tr.Base
	if base == nil {
		base = http.DefaultTransport
	}
	rsp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(rsp.Body)
	_ = rsp.Body.Close()
	if err != nil {
		return nil, errors.Join(errors.New("spectest: reading the response"), err)
	}
	rsp.Body = io.NopCloser(bytes.NewReader(body))
	if err := tr.Checker.Check(req.Context(), req, rsp.StatusCode, rsp.Header, body); err != nil {
		tr.T.Errorf("%s %s: %d response does not conform to the spec: %v", req.Method, req.URL, rsp.StatusCode, err)
	}
	return rsp, nil
}
