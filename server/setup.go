// Package server is the connector group members mock server as a library:
// New wires the generated Echo interface to a MemberStore behind bearer
// authentication, request validation against the embedded spec and one
// error path that answers every failure in the OData error envelope.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/openapi"
)

// DefaultMaxBodyBytes is the largest request body accepted unless Config says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Config configures New. The zero Config is a working in-memory server that
// accepts any bearer token.
type Config struct {
	// Token, when set, is the only bearer token accepted.
	Token string
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Store keeps the members; nil means a new MemoryStore.
	Store MemberStore
	// Logger receives one line per request and the detail of every 500; nil discards.
	Logger *slog.Logger

	// disableFastPath sends every request through kin-openapi; the
	// differential tests compare the two paths.
	disableFastPath bool
}

// New returns the mock server's HTTP handler. Every operation's route is
// resolved against the embedded spec here, once: an operation the spec has
// and the server does not serve, or the reverse, is an error.
func New(cfg Config) (http.Handler, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	store := cfg.Store
	if store == nil {
		store = NewMemoryStore()
	}

	spec, err := generated.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("loading the embedded spec: %w", err)
	}
	h, err := newHandlers(spec, store)
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(logger)
	e.JSONSerializer = jsonSerializer{}
	e.SchemeExtractor = schemeOf(echo.ExtractSchemeFromHeaders())
	e.Use(withCommon(logger))

	sr := &specRouter{echo: e, operations: specOperations(spec), auth: bearerAuth(cfg.Token),
		options: validationOptions(), maxBody: maxBody, disableFastPath: cfg.disableFastPath,
		bodyTypes: map[string]reflect.Type{
			"addconnectorgroupmember": reflect.TypeFor[generated.AddConnectorGroupMemberJSONRequestBody](),
		}}
	generated.RegisterHandlers(sr, h)
	if err := sr.done(); err != nil {
		return nil, err
	}
	return normalizeRefSegment(e), nil
}

// newHandlers reads from the spec what the handlers need of it.
func newHandlers(spec *openapi3.T, store MemberStore) (*handlers, error) {
	h := &handlers{store: store, specYAML: openapi.YAML}
	var err error
	if h.specJSON, err = spec.MarshalJSON(); err != nil {
		return nil, fmt.Errorf("encoding the spec as JSON: %w", err)
	}
	for path, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			// oapi-codegen capitalises operationIds in the spec it embeds.
			switch strings.ToLower(op.OperationID) {
			case "getconnectorgroupmember":
				h.memberPath = path
			case "listconnectorgroupmembers":
				top := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "$top")
				if top == nil || top.Schema == nil || top.Schema.Value == nil {
					return nil, errors.New("the spec's listConnectorGroupMembers has no $top parameter")
				}
				def, ok := top.Schema.Value.Default.(float64)
				if !ok || def < 1 {
					return nil, errors.New("the spec's $top has no positive default")
				}
				h.defaultTop = int(def)
			}
		}
	}
	if h.memberPath == "" {
		return nil, errors.New("the spec has no getConnectorGroupMember operation")
	}
	h.memberPathParts = paramPattern.Split(h.memberPath, -1)
	h.memberPathNames = paramPattern.FindAllStringSubmatch(h.memberPath, -1)
	return h, nil
}

// specOperation is one operation of the spec, resolved for its Echo route.
type specOperation struct {
	route      *routers.Route
	secured    bool
	shadows    []shadow
	registered bool
}

// shadow is a more concrete spec path that Echo's router lets this
// operation's template swallow: for …/members/{connectorId} (GET), the path
// …/members/$ref (POST only). OpenAPI matches the concrete path first, so a
// request whose parameters spell it out is a 405 for that path, not a call
// to this operation with connectorId "$ref".
type shadow struct {
	literals map[string]string // parameter name -> the concrete path's segment
	allow    string            // the methods the concrete path serves
}

// shadowsOf lists the spec paths more concrete than path that do not serve method.
func shadowsOf(spec *openapi3.T, path, method string) []shadow {
	segs := strings.Split(path, "/")
	var out []shadow
	for other, item := range spec.Paths.Map() {
		if other == path || item.GetOperation(method) != nil {
			continue
		}
		osegs := strings.Split(other, "/")
		if len(osegs) != len(segs) {
			continue
		}
		literals := map[string]string{}
		match := true
		for i, seg := range segs {
			param := paramPattern.FindStringSubmatch(seg)
			oparam := paramPattern.MatchString(osegs[i])
			switch {
			case param != nil && !oparam:
				literals[param[1]] = osegs[i]
			case param == nil && (oparam || seg != osegs[i]):
				match = false
			}
		}
		if !match || len(literals) == 0 {
			continue
		}
		var methods []string
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		out = append(out, shadow{literals: literals, allow: strings.Join(methods, ", ")})
	}
	return out
}

// paramPattern matches an OpenAPI path parameter, {name}.
var paramPattern = regexp.MustCompile(`\{([^}]+)\}`)

// specOperations indexes the spec's operations by "METHOD echo-path", the key
// the generated RegisterHandlers registers them under.
func specOperations(spec *openapi3.T) map[string]*specOperation {
	ops := make(map[string]*specOperation)
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			security := spec.Security
			if op.Security != nil {
				security = *op.Security
			}
			secured := len(security) > 0
			for _, req := range security {
				if len(req) == 0 { // an empty requirement makes authentication optional
					secured = false
				}
			}
			echoPath := paramPattern.ReplaceAllString(path, ":$1")
			ops[method+" "+echoPath] = &specOperation{
				route:   &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
				secured: secured,
				shadows: shadowsOf(spec, path, method),
			}
		}
	}
	return ops
}

// specRouter is the generated.EchoRouter the generated code registers its
// handlers with: it puts each operation's authentication and validation in
// front of its handler, as route middleware, so they run only for requests
// Echo routed to that operation.
type specRouter struct {
	echo       *echo.Echo
	operations map[string]*specOperation
	auth       echo.MiddlewareFunc
	options    *openapi3filter.Options
	maxBody    int64
	errs       []error
	// bodyTypes are the generated body types, by lower-case operationId, that
	// the fast path decodes into; disableFastPath leaves everything to kin-openapi.
	bodyTypes       map[string]reflect.Type
	disableFastPath bool
}

func (r *specRouter) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	op, ok := r.operations[method+" "+path]
	if !ok {
		r.errs = append(r.errs, fmt.Errorf("%s %s is served but not in the spec", method, path))
		return r.echo.Add(method, path, h, m...)
	}
	op.registered = true
	var chain []echo.MiddlewareFunc
	if op.secured {
		chain = append(chain, r.auth)
	}
	v := &requestValidator{route: op.route, shadows: op.shadows, options: r.options, maxBody: r.maxBody}
	if !r.disableFastPath {
		formats := FormatValidators()
		v.fastParams, v.fastParamsOK = compileParams(op.route.PathItem, op.route.Operation, formats)
		if rb := op.route.Operation.RequestBody; rb != nil && rb.Value != nil {
			bodyType, known := r.bodyTypes[strings.ToLower(op.route.Operation.OperationID)]
			if mt := rb.Value.Content.Get(echo.MIMEApplicationJSON); known && mt != nil && mt.Schema != nil && len(rb.Value.Content) == 1 {
				v.fastBody, _ = compileBody(mt.Schema.Value, bodyType, formats)
			}
		}
	}
	chain = append(chain, v.middleware)
	chain = append(chain, m...)
	// Compose the chain once, here: Echo would rebuild route middleware
	// around the handler on every request (measured: 1.3% of a POST's CPU).
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return r.echo.Add(method, path, h)
}

// done reports the operations that did not line up between spec and server.
func (r *specRouter) done() error {
	for key, op := range r.operations {
		if !op.registered {
			r.errs = append(r.errs, fmt.Errorf("%s is in the spec but not served", strings.TrimSpace(key)))
		}
	}
	return errors.Join(r.errs...)
}

// CONNECT implements generated.EchoRouter.
func (r *specRouter) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h, m)
}

// DELETE implements generated.EchoRouter.
func (r *specRouter) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h, m)
}

// GET implements generated.EchoRouter.
func (r *specRouter) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodGet, p, h, m)
}

// HEAD implements generated.EchoRouter.
func (r *specRouter) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h, m)
}

// OPTIONS implements generated.EchoRouter.
func (r *specRouter) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h, m)
}

// PATCH implements generated.EchoRouter.
func (r *specRouter) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h, m)
}

// POST implements generated.EchoRouter.
func (r *specRouter) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h, m)
}

// PUT implements generated.EchoRouter.
func (r *specRouter) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h, m)
}

// TRACE implements generated.EchoRouter.
func (r *specRouter) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h, m)
}
