package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/journal"
)

// requestContext is the Echo context of one request (Echo's documented way
// to carry typed values from middleware to handler). front.serve makes it
// with the request's id; the operation's checks set call, once, to what they
// made of the request; nothing else writes to it.
type requestContext struct {
	echo.Context
	id      uuid.UUID      // the request-id
	idText  string         // and as the response header and the log say it
	cid     string         // the caller's client-request-id, echoed; "" when it sent none
	method  string         // the method the client sent
	prefix  string         // the version prefix the path came under (/beta, /v1.0), "" for the root
	call    call           // what the operation's middleware made of the request,
	matched bool           // once it has: a request for no operation has no call
	scratch scratch        // the validator's workspace, allocated with the context
	answer  answerRecorder // what the journal keeps of the answer, allocated with the context
}

// scratch is what the generated validator works with: part of the request's
// context so that it costs no allocation of its own.
type scratch struct {
	in reqcheck.Input
	vs reqcheck.Violations
}

// call is what the server made of a request for one of the spec's
// operations: its parameters parsed once and its body checked and decoded.
// The handler, the log line, the metrics and the journal read it.
type call struct {
	operation string        // the operationId
	app       string        // the group the path names (applicationsId or connectorGroupId) as sent, when it names one
	prefer    preferences   // what the Prefer header asks for
	params    any           // the parameters the generated check parsed, for the operation's handler
	body      any           // the body the generated validator decoded, when it passed
	raw       []byte        // the body as read (decompressed)
	delay     time.Duration // the latency injected
	// proxied says the service answered (--proxy); disagreements are where
	// the exchange and the spec differ.
	proxied       bool
	disagreements []Disagreement
	// cutShort says the answer passed on is not whole (the service broke
	// off after its header): once journalled, the connection is broken
	// too, so that the client cannot take the part for the whole.
	cutShort bool
}

// outcome is how a request was answered, as renderError returns it.
type outcome struct {
	status     int
	code       generated.ErrorCode // error.code of a non-2xx answer
	violations []reqcheck.Violation
	fault      int // the status of the fault injected, or 0
}

// callOf is the call the operation's middleware made for c.
func callOf(c echo.Context) (*call, error) {
	if rc, ok := c.(*requestContext); ok && rc.matched {
		return &rc.call, nil
	}
	return nil, errors.New("a handler ran without its operation's middleware")
}

// bodyOf is the body the generated validator decoded for c, as the
// generated type T.
func bodyOf[T any](c echo.Context) (*T, error) {
	ca, err := callOf(c)
	if err != nil {
		return nil, err
	}
	body, ok := ca.body.(*T)
	if !ok {
		return nil, fmt.Errorf("the handler wants a %T body, the validator decoded a %T", body, ca.body)
	}
	return body, nil
}

var (
	canonicalClientRequestID = http.CanonicalHeaderKey(headerClientReqID)
	canonicalRequestID       = http.CanonicalHeaderKey(headerRequestID)
	canonicalNoSniff         = http.CanonicalHeaderKey("X-Content-Type-Options")
	noSniff                  = []string{"nosniff"}
)

// observers are what learns of every answered request: the access log, the
// journal and the metrics.
type observers struct {
	logger  *slog.Logger
	journal *journal.Journal
	metrics *metrics
}

// front is what every request goes through, unknown routes included
// (Server.ServeHTTP routes it, then calls serve).
type front struct {
	obs    observers
	routes knownPaths
	hosts  hostPolicy
	cors   *corsPolicy
}

// serve answers a routed request, in this order: a request-id and the
// client-request-id echoed before anything can fail; a Host the mock does
// not answer refused (hosts.go); the CORS headers of an allowed Origin
// (cors.go); OPTIONS refused where no preflight is; a panic recovered into an
// error; the error rendered, so that the status logged is the status sent;
// then the outcome told to the access log, the metrics and (but for the
// admin API, /metrics and the pages) the journal. prefix is the version
// prefix the path came under.
func (f *front) serve(c echo.Context, prefix string) {
	start := time.Now()
	req := c.Request()
	id := newGUID()
	rc := &requestContext{Context: c, id: id, idText: id.String(), method: req.Method, prefix: prefix}
	rc.scratch.in.Header = req.Header
	h := c.Response().Header()
	h[canonicalRequestID] = []string{rc.idText}
	// Every answer is what its Content-Type says: no browser may sniff
	// a JSON error or a text body into a script or a page.
	h[canonicalNoSniff] = noSniff
	// The caller's client-request-id is the first item of the list: the
	// Graph SDKs' telemetry handler adds its own after the caller's, and
	// their stack sends the two on one line ("caller-7, <guid>"). The
	// list is split once; the generated check reads the same items.
	if items := rc.scratch.in.Items(canonicalClientRequestID); len(items) > 0 && items[0] != "" {
		rc.cid = items[0]
		h[canonicalClientRequestID] = []string{rc.cid}
	}
	var answer *answerRecorder
	if f.obs.journal.Enabled() && !unjournaled(req.URL.Path) {
		answer = &rc.answer
		answer.ResponseWriter = c.Response().Writer
		c.Response().Writer = answer
	}
	out := outcome{}
	if !f.hosts.allows(req.Host) {
		// Before anything else: a page rebound to 127.0.0.1 reaches
		// neither the API, nor the admin API, nor the pages.
		out = renderError(rc, f.obs.logger, f.routes, forbiddenHost(req.Host))
	} else {
		f.cors.decorate(h, req) // before the handler, so that its errors carry it too
		if err := callRecovering(rc, c.Handler()); err != nil {
			out = renderError(rc, f.obs.logger, f.routes, err)
		} else {
			out.status = c.Response().Status
		}
	}
	f.obs.observe(rc, out, start, answer)
	if rc.call.cutShort {
		panic(http.ErrAbortHandler) // net/http's way to break off an answer, without a stack in the log
	}
}

// journalDisagreements are ds as the journal keeps them.
func journalDisagreements(ds []Disagreement) []journal.Disagreement {
	if len(ds) == 0 {
		return nil
	}
	out := make([]journal.Disagreement, len(ds))
	for i, d := range ds {
		out[i] = journal.Disagreement{Direction: d.Direction, Pointer: d.Pointer, Spec: d.Spec, Arrived: d.Arrived}
	}
	return out
}

// answerRecorder keeps the start of an answer's body for the journal, as
// it is written: no more than an entry keeps.
type answerRecorder struct {
	http.ResponseWriter
	kept      []byte
	truncated bool
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	room := journal.ResponseBodyLimit - len(a.kept)
	if len(p) > room {
		a.truncated = true
	}
	a.kept = append(a.kept, p[:min(len(p), max(room, 0))]...)
	return a.ResponseWriter.Write(p)
}

// Flush and Unwrap keep what the writer underneath offers: streaming, and
// http.ResponseController's deadlines.
func (a *answerRecorder) Flush() {
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// observe tells the access log, the metrics and the journal of an answered
// request; answer is what was kept of the answer for the journal.
func (obs observers) observe(rc *requestContext, out outcome, start time.Time, answer *answerRecorder) {
	req := rc.Request()
	ca := &rc.call
	duration := time.Since(start)
	attrs := []slog.Attr{
		slog.String("method", rc.method),
		slog.String("path", req.URL.Path),
		slog.Int("status", out.status),
		slog.Duration("duration", duration),
		slog.String("request_id", rc.idText),
	}
	if out.fault != 0 {
		attrs = append(attrs, slog.Int("fault", out.fault))
	}
	if ca.delay != 0 {
		attrs = append(attrs, slog.Duration("latency", ca.delay))
	}
	obs.logger.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
	obs.metrics.observe(ca.operation, out, duration.Seconds())
	for _, d := range ca.disagreements {
		obs.metrics.disagreement(ca.operation, d.Direction)
	}
	if answer != nil {
		obs.journal.Add(&journal.Request{
			Time: start, ID: rc.id, ClientRequestID: rc.cid, Method: rc.method,
			Path: req.URL.Path, Header: req.Header,
			Operation: ca.operation, ApplicationID: ca.app, Status: out.status, ErrorCode: string(out.code),
			Violations: out.violations, Fault: out.fault, Duration: duration, Body: ca.raw,
			ResponseHeader: rc.Response().Header(), ResponseBody: answer.kept, ResponseTruncated: answer.truncated,
			Proxied: ca.proxied, Disagreements: journalDisagreements(ca.disagreements),
		})
	}
}

// unjournaled are the paths the journal leaves out: reading it must not
// change it, and the pages' own loads (the pages, their assets, the icon a
// browser asks every page for, the spec /docs renders) are not what a test
// asks about: a fresh mock's journal stays empty while a developer looks at it.
func unjournaled(path string) bool {
	switch path {
	case "/metrics", "/docs", "/favicon.ico", "/openapi.json":
		return true
	}
	return strings.HasPrefix(path, "/_admin/") || strings.HasPrefix(path, "/docs/")
}

// callRecovering calls next, turning a panic into an error, so the client
// gets the documented 500 and the log the stack under the request-id.
func callRecovering(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			stack := make([]byte, 4<<10)
			stack = stack[:runtime.Stack(stack, false)]
			err = fmt.Errorf("panic: %v\n%s", r, stack)
		}
	}()
	if refuseOptions(c) {
		return echo.MethodNotAllowedHandler(c)
	}
	return next(c)
}

// refuseOptions makes OPTIONS like any other method the path does not allow
// (405 with Allow) instead of Echo's undocumented 204: the mock does not do
// CORS, and every response it sends is in the spec. It also drops OPTIONS
// from the Allow that Echo lists for every path.
func refuseOptions(c echo.Context) bool {
	allow, ok := c.Get(echo.ContextKeyHeaderAllow).(string)
	if !ok {
		return false
	}
	methods := strings.Split(allow, ", ")
	methods = slices.DeleteFunc(methods, func(m string) bool { return m == http.MethodOptions })
	c.Set(echo.ContextKeyHeaderAllow, strings.Join(methods, ", "))
	return c.Request().Method == http.MethodOptions
}

// newGUID makes a random (version 4) GUID. Request ids and the ids the mock
// assigns to members need to be unique, not secret, so they come from the
// runtime's ChaCha8 generator instead of a crypto/rand read each.
func newGUID() uuid.UUID {
	var id uuid.UUID
	binary.LittleEndian.PutUint64(id[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(id[8:], rand.Uint64())
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}
