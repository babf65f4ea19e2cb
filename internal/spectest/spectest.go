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
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// Checker validates responses against the spec. It finds each request's
// operation with kin-openapi's own router, independently of the server's.
type Checker struct {
	spec   *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// New loads the embedded spec. Its servers are dropped so that any host matches.
func New() (*Checker, error) {
	spec, err := generated.GetSpec()
	if err != nil {
		return nil, err
	}
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	return &Checker{spec: spec, router: router, opts: &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidators(server.FormatValidators()),
		},
	}}, nil
}

// componentForStatus names the shared response a request that matches no
// operation (an unknown route, a wrong method) must be answered with.
var componentForStatus = map[int]string{
	http.StatusNotFound:         "NotFound",
	http.StatusMethodNotAllowed: "MethodNotAllowed",
}

// Check validates one response to req against the spec.
func (c *Checker) Check(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		// No operation: the answer must be the documented 404 or 405.
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
		Options:                c.opts,
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
