// Package server is the connector group members mock server as a library.
//
// One request reads top to bottom:
//
//	Server.ServeHTTP                routePath (paths.go): %24ref read as $ref, /beta and /v1.0
//	                                routed as the root; Echo's router finds the operation's route
//	                                (no route: Graph's 400 naming the segment (segments.go); 405
//	                                with Allow); the request itself is never changed
//	front.serve (middleware.go)     request-id; panic recovery; renderError (errors.go) turns a failure
//	                                into the envelope and returns the outcome; the access log, the
//	                                metrics and the journal (server/journal) read call and outcome
//	operationChecks (validate.go)   makes the call: bearer token, Prefer (prefer.go), faults
//	                                (server/faults), Content-Type, body size, then the generated
//	                                check (generated/validation) checks and parses every parameter
//	                                and header, once, and decodes the body into the generated model
//	the generated Handlers          call the server interface's method with what the check parsed
//	handlers (handlers.go)          read the body from the call (bodyOf), then the store (server/store)
//
// oapi-codegen's ServerInterface is what the handlers implement; its wrapper
// (and the strict server's, which wraps it) is not used: it would bind every
// parameter again, from the text the generated check has already parsed.
//
// HEAD is answered wherever GET is by the HEAD operations of the spec (head.go).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	adminvalidation "github.com/connector-group/members-api/generated/admin/validation"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/httplimits"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/openapi"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/journal"
	"github.com/connector-group/members-api/server/pages"
	"github.com/connector-group/members-api/server/store"
)

// DefaultMaxBodyBytes is the largest request body accepted unless Config says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Config configures New. The zero Config is a working in-memory server that
// accepts any bearer token.
type Config struct {
	// Token, when set, is the only bearer token accepted. It cannot begin or
	// end with white space, which no Authorization header could carry.
	Token string
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Store keeps the members; nil means a new store.Memory.
	Store store.Store
	// Logger receives one line per request and the detail of every 500; nil discards.
	Logger *slog.Logger
	// SkipTokenKey authenticates the $skiptoken values the server issues: 16,
	// 24 or 32 bytes. Nil means a random key, so tokens last as long as the
	// process.
	SkipTokenKey []byte
	// Faults make member operations slow, throttled or failing on purpose;
	// Server.SetFaults changes them while the server runs.
	Faults faults.Settings
	// Seed, when not 0, makes the faults and latencies drawn repeat from run
	// to run for the same requests in the same order.
	Seed uint64
	// AllowedHosts are the Host names answered besides IP addresses,
	// localhost and *.localhost (say, a Compose service's name); "*" answers
	// any, turning the defence against DNS rebinding off.
	AllowedHosts []string
	// CORSOrigins are the page origins (scheme://host[:port]) that may call
	// the API from a browser: their preflights are answered, and their
	// answers carry Access-Control-Allow-Origin. None by default.
	CORSOrigins []string
	// CORSAdmin lets the CORSOrigins call the admin API too.
	CORSAdmin bool
	// JournalSize is how many requests the journal keeps: 0 means
	// journal.DefaultSize, a negative number turns the journal off.
	JournalSize int
	// ImplicitGroups makes the service's member paths
	// (connectorGroups/{id}/members…) create a connector group on first
	// use, as the seed page's path does for an application; without it a
	// group never created is a 404 there, as at the service.
	ImplicitGroups bool
	// Proxy, when set, is the service's base URL (https://graph.microsoft.com):
	// the API's operations are forwarded there, the caller's Authorization
	// passed on unchecked, and both directions checked against the spec,
	// each exchange journalled with its disagreements.
	Proxy string
	// ProxyInvalid forwards a request the spec refuses too (to learn what
	// the service does with it) instead of answering it with the 400.
	ProxyInvalid bool
	// ProxyClient reaches the service; nil is one with timeouts that
	// follows no redirect.
	ProxyClient *http.Client
}

// Server is the mock server: an http.Handler whose misbehaviour can be
// changed while it serves.
type Server struct {
	echo      *echo.Echo
	front     front
	roots     map[string]bool // the first segments of the service's paths
	misbehave *faults.Injector
	journal   *journal.Journal
	store     store.Store
	proxy     *proxy // nil unless Config.Proxy
}

// ServeHTTP implements http.Handler: it routes the request (on routePath,
// leaving the request as it came) with Echo's router, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix, path := routePath(r, s.roots)
	c := s.echo.AcquireContext()
	c.Reset(r, w)
	s.echo.Router().Find(r.Method, path, c)
	s.front.serve(c, prefix)
	s.echo.ReleaseContext(c)
}

// Connections is what a listener limited by httplimits.LimitListener tells
// of the connections it opens, closes and refuses: /metrics counts them.
func (s *Server) Connections() httplimits.ConnObserver { return s.front.obs.metrics }

// Faults are the misbehaviour settings in force.
func (s *Server) Faults() faults.Settings { return s.misbehave.Settings() }

// SetFaults replaces the misbehaviour settings, from the next request on. A
// new rate limit starts every caller's window afresh.
func (s *Server) SetFaults(f faults.Settings) error { return s.misbehave.Set(f) }

// Requests returns the journal's entries that pass f, newest first.
func (s *Server) Requests(f journal.Filter) []journal.Entry { return s.journal.List(f) }

// Reset empties every connector group and the journal (app nil), or the
// group of app only, as POST /_admin/reset does.
func (s *Server) Reset(ctx context.Context, app *uuid.UUID) error {
	if err := s.store.Reset(ctx, app); err != nil {
		return err
	}
	if app == nil {
		s.journal.Clear()
		_ = s.misbehave.Set(faults.Settings{}) // the zero Settings always pass Check
	}
	return nil
}

// New returns the mock server.
func New(cfg Config) (*Server, error) {
	if cfg.Token != strings.TrimSpace(cfg.Token) {
		return nil, errors.New("the token begins or ends with white space, which no Authorization header can carry")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	members := cfg.Store
	if members == nil {
		members = store.NewMemory()
	}
	hosts, err := newHostPolicy(cfg.AllowedHosts)
	if err != nil {
		return nil, err
	}
	tokens, err := newSkipTokens(cfg.SkipTokenKey)
	if err != nil {
		return nil, err
	}
	misbehave, err := faults.NewInjector(cfg.Faults, cfg.Seed)
	if err != nil {
		return nil, err
	}
	journalSize := cfg.JournalSize
	if journalSize == 0 {
		journalSize = journal.DefaultSize
	}
	requests := journal.New(max(journalSize, 0))
	metrics := newMetrics(members)
	spec, err := specTables()
	if err != nil {
		return nil, err
	}
	cors, err := newCORSPolicy(cfg.CORSOrigins, cfg.CORSAdmin, spec.all)
	if err != nil {
		return nil, err
	}
	h := &handlers{store: members, tokens: tokens, appMember: spec.appMember, member: spec.member,
		specYAML: openapi.YAML, specJSON: spec.json, index: spec.index, metrics: metrics.handler(), groupPath: spec.groupPath, implicitGroups: cfg.ImplicitGroups,
		cors: cors}

	e := echo.New()
	e.JSONSerializer = jsonSerializer{}
	// The API and the admin API: each operation behind the same checks
	// (token, misbehaviour for member operations, the generated validator),
	// then its handler, called with what the checks parsed.
	auth := bearerAuth(cfg.Token)
	var upstream *proxy
	if cfg.Proxy != "" {
		if upstream, err = newProxy(cfg.Proxy, cfg.ProxyClient, cfg.ProxyInvalid); err != nil {
			return nil, err
		}
	}
	serve := validation.Handlers(h)
	serviceOperations := map[string]bool{}
	for _, op := range spec.operations {
		serviceOperations[op.ID] = isService(op)
	}
	maps.Copy(serve, adminvalidation.Handlers(&adminHandlers{store: members, journal: requests, misbehave: misbehave,
		serviceOperations: serviceOperations, dashboard: spec.dashboard, dashboardPolicy: spec.dashboardPolicy, dashboardPath: spec.index.links.Dashboard}))
	for _, op := range spec.all {
		checks := &operationChecks{op: op, serve: serve[op.ID], service: isService(op), auth: auth,
			misbehave: misbehave, maxBody: maxBody, shadows: spec.shadows[op.ID]}
		if upstream != nil && checks.service {
			checks.proxy, checks.auth = upstream, passThrough
		}
		if checks.serve == nil {
			return nil, fmt.Errorf("%s %s (%s) has no handler: run make generate", op.Method, op.Path, op.ID)
		}
		e.Add(op.Method, echoPath(op.Path), checks.handle)
	}
	s := &Server{echo: e, roots: spec.roots, misbehave: misbehave, journal: requests, store: members, proxy: upstream,
		front: front{obs: observers{logger: logger, journal: requests, metrics: metrics}, routes: spec.paths, hosts: hosts, cors: cors}}
	h.dispatch, h.roots = s.ServeHTTP, spec.roots // a batch's requests go through the whole server
	return s, nil
}

// tables are what every server builds the same from the generated specs:
// made once per process (a test that starts a mock of its own pays for
// them once), and never changed after.
type tables struct {
	operations, all []reqcheck.Operation // the API's, and the API's and the admin API's
	shadows         map[string][]shadow  // by operationId
	roots           map[string]bool      // the first segments of the service's paths
	paths           knownPaths           // the routes the generated servers register, segment by segment
	appMember       memberLink
	member          memberLink
	groupPath       string // a connector group's path, {connectorGroupId} to be filled in
	json            []byte // connector.yaml as JSON
	dashboard       []byte
	dashboardPolicy string
	index           index
}

var specTables = sync.OnceValues(func() (*tables, error) {
	t := &tables{operations: validation.Operations(), shadows: map[string][]shadow{}}
	t.all = append(slices.Clone(t.operations), adminvalidation.Operations()...)
	for _, op := range t.all {
		t.shadows[op.ID] = shadowsOf(op, t.all)
	}
	t.roots = serviceRoots(t.operations)
	t.paths = newKnownPaths(t.all, t.roots)
	var err error
	if t.appMember, err = newMemberLink(t.operations, "getConnectorGroupMember", "{applicationsId}"); err != nil {
		return nil, err
	}
	if t.member, err = newMemberLink(t.operations, "getGroupMember", "{connectorGroupId}"); err != nil {
		return nil, err
	}
	for _, op := range t.operations {
		if op.ID == "getConnectorGroup" {
			t.groupPath = op.Path
		}
	}
	if t.groupPath == "" {
		return nil, errors.New("the spec has no getConnectorGroup operation")
	}
	if t.json, err = openapi.JSON(); err != nil {
		return nil, err
	}
	if t.dashboard, err = dashboardPage(t.operations); err != nil {
		return nil, err
	}
	t.dashboardPolicy = pages.ContentSecurityPolicy(t.dashboard)
	if t.index, err = indexPage(t.all, t.json); err != nil {
		return nil, err
	}
	return t, nil
})

// echoPath is a spec path template as Echo writes it: {name} becomes :name.
func echoPath(path string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(path, '{')
		end := strings.IndexByte(path, '}')
		if open < 0 || end < open {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:open])
		b.WriteByte(':')
		b.WriteString(path[open+1 : end])
		path = path[end+1:]
	}
}
