package server

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/faults"
)

// operationChecks are one operation's route: its checks, then its handler.
type operationChecks struct {
	op        reqcheck.Operation
	serve     func(c echo.Context, params any) error // the generated Handlers' entry of op
	service   bool                                   // an operation of the service: it misbehaves on purpose
	auth      func(http.Header) (string, error)
	misbehave *faults.Injector
	maxBody   int64
	shadows   []shadow
	proxy     *proxy // forwards the operation to the service (--proxy), or nil
}

// handle makes the call of a request for the operation, publishes it (once)
// for the handler and the observers, and calls the handler with the
// parameters the generated check parsed when the request passed every check.
func (o *operationChecks) handle(c echo.Context) error {
	rc, ok := c.(*requestContext)
	if !ok {
		return errors.New("an operation ran without front.serve")
	}
	var err error
	rc.call, err = o.prepare(rc, &rc.scratch)
	rc.matched = true
	if o.proxy != nil {
		return o.proxy.forward(rc, err)
	}
	if err != nil {
		return err
	}
	return o.serve(c, rc.call.params)
}

// prepare checks a request in this order: a path that names a more concrete
// path of the spec (405); the bearer token (401); for a member operation,
// the misbehaviour asked for (throttling, a fault, latency), so that a
// faulted request changes nothing; an empty path segment (404); the
// Content-Type and Content-Encoding (415); the body's size (413); and then
// the generated validator, which checks the parameters, headers and body and
// decodes the body into the generated model (400 listing every violation).
// The call it returns says as much as it learnt, also when it fails.
func (o *operationChecks) prepare(c *requestContext, scratch *scratch) (call, error) {
	req := c.Request()
	ca := call{operation: o.op.ID, app: groupParam(c)}
	// The route first (405 before 401, as the README's order of checks says),
	// as Echo's router would answer it if it knew the spec's more concrete paths.
	for _, sh := range o.shadows {
		if sh.matches(c) {
			c.Response().Header().Set(echo.HeaderAllow, sh.allow)
			return ca, echo.ErrMethodNotAllowed
		}
	}
	var token string
	if o.op.Secured {
		var err error
		if token, err = o.auth(req.Header); err != nil {
			return ca, err
		}
	}
	in, vs := &scratch.in, &scratch.vs
	// Read before the generated check, which checks the same items: a
	// faulted request is answered whatever else it holds.
	ca.prefer = parsePrefer(in.Items(canonicalPrefer))
	var delay time.Duration
	if o.service && (ca.prefer.fault != 0 || o.misbehave.Active()) {
		d := o.misbehave.Decide(faults.Request{Token: token, Operation: o.op.ID, Target: ca.app, Forced: ca.prefer.fault})
		for k, v := range d.RateLimit {
			c.Response().Header()[k] = v
		}
		if d.Fault != nil {
			ca.delay = d.Delay
			return ca, o.fault(c, d)
		}
		delay = d.Delay
	}
	for _, v := range c.ParamValues()[:len(c.ParamNames())] {
		if v == "" {
			// Echo matches an empty segment to a parameter; a path template
			// does not (a path parameter is never empty), so to the spec
			// this is no route at all.
			return ca, echo.ErrNotFound
		}
	}
	in.Path = c
	if req.URL.RawQuery != "" {
		query, err := url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			vs.Add("", reqcheck.MsgInvalidQuery)
		}
		in.Query = query
	}
	if o.op.BodyMediaTypes != nil {
		if err := checkContentType(req, o.op.BodyMediaTypes); err != nil {
			return ca, err
		}
		gzipped, err := checkContentEncoding(req.Header)
		if err != nil {
			return ca, err
		}
		body, arrived, err := readBody(c, o.maxBody, gzipped)
		ca.raw = arrived
		if err != nil {
			return ca, err
		}
		in.Body, ca.raw = body, body
	}
	// Only with the body read to its end does net/http notice a client
	// that goes away, so the wait comes after it and can be cut short.
	if delay > 0 {
		ca.delay = delay
		if err := wait(c, delay); err != nil {
			return ca, err
		}
	}
	checked := o.op.Check(in, vs)
	if vs.Len() > 0 {
		return ca, badRequest(vs.List())
	}
	ca.params, ca.body = checked.Params, checked.Body
	return ca, nil
}

// groupParam is the group a request's path names: by its application at the
// seed page's path, by its own id at the service's; "" when it names none.
func groupParam(c echo.Context) string {
	if app := c.Param("applicationsId"); app != "" {
		return app
	}
	return c.Param("connectorGroupId")
}

// serviceTags mark the operations of the service in the spec (its members
// and connectors, as opposed to health, the spec and the pages): the ones
// that misbehave, and that are served under the version prefixes too.
var serviceTags = [...]string{"members", "connectors", "groups"}

// isService tells whether op is an operation of the service.
func isService(op reqcheck.Operation) bool {
	return slices.ContainsFunc(op.Tags, func(tag string) bool { return slices.Contains(serviceTags[:], tag) })
}

// fault reads and drops the request's body (up to the body limit), waits
// out the latency drawn with the fault (cut short when the client goes away:
// with the body read, net/http notices), and returns the fault's answer.
// The body is read first so that the answer comes after the request, whole,
// as from a front door that reads requests before it throttles them (it
// narrows, but cannot close, the race kiota-http-go's retry handler has with
// its own transport; examples/graphsdk's AttemptCopy closes it). Nothing is
// locked while it waits.
func (o *operationChecks) fault(c echo.Context, d faults.Decision) error {
	if body := c.Request().Body; body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, o.maxBody+1))
	}
	if d.Delay > 0 {
		if err := wait(c, d.Delay); err != nil {
			return err
		}
	}
	e := &apiError{status: d.Fault.Status, code: faults.Code(d.Fault.Status), message: d.Fault.Message, fault: d.Fault.Status}
	if d.Fault.RetryAfter > 0 {
		e.header = http.Header{"Retry-After": {strconv.Itoa(d.Fault.RetryAfter)}}
	}
	return e
}

// wait waits out an injected delay, or until the client goes away.
func wait(c echo.Context, delay time.Duration) error {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-c.Request().Context().Done():
		return errClientGone
	}
}

// errClientGone ends a request whose client went away while it waited: there
// is nobody to answer.
var errClientGone = errors.New("the client went away")

// PathParam implements reqcheck.PathParams: a path parameter, unescaped (Echo
// hands them over as they were in the path when it routed on the escaped form).
func (rc *requestContext) PathParam(name string) string {
	v := rc.Param(name)
	if strings.IndexByte(v, '%') >= 0 {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// checkContentType answers 415 unless the body's media type is one the
// operation takes, with no charset but UTF-8 (RFC 8259 has JSON in UTF-8
// only). A request without a body and without a Content-Type goes on to the
// validator, which reports the missing body.
func checkContentType(req *http.Request, accepted []string) error {
	ct := req.Header.Get(echo.HeaderContentType)
	if ct == "" {
		if req.ContentLength == 0 {
			return nil
		}
		return unsupportedMediaType(msgNoContentType)
	}
	if slices.Contains(accepted, ct) {
		return nil // the usual case: exactly a media type the spec names
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(accepted, mediaType) {
		return unsupportedMediaType(fmt.Sprintf("Content-Type %s is not supported; use %s.", reqcheck.Quote(ct), strings.Join(accepted, " or ")))
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return unsupportedMediaType(fmt.Sprintf("charset %s is not supported; JSON is UTF-8.", reqcheck.Quote(charset)))
	}
	return nil
}

// checkContentEncoding accepts a body sent as is (no Content-Encoding, or
// identity) or compressed once with gzip, as the Microsoft Graph SDKs send
// them; any other encoding is a 415 naming Content-Encoding, which tells such
// a client to send the body uncompressed.
func checkContentEncoding(header http.Header) (gzipped bool, err error) {
	for _, line := range header[echo.HeaderContentEncoding] {
		for _, coding := range strings.Split(line, ",") {
			switch coding = strings.ToLower(strings.TrimSpace(coding)); coding {
			case "", "identity":
			case "gzip", "x-gzip":
				if gzipped {
					return false, unsupportedEncoding("gzip twice")
				}
				gzipped = true
			default:
				return false, unsupportedEncoding(coding)
			}
		}
	}
	return gzipped, nil
}

func unsupportedEncoding(coding string) *apiError {
	return &apiError{status: http.StatusUnsupportedMediaType, code: generated.ErrorCodeUnsupportedMediaType,
		message: fmt.Sprintf("Content-Encoding %s is not supported; send the body as is, or with gzip.", reqcheck.Quote(coding)),
		target:  echo.HeaderContentEncoding}
}

// readBody reads the body whole, up to maxBody bytes: a larger body is a 413,
// never a truncated read. io.ReadAll grows its buffer as bytes arrive, so
// memory follows the bytes a client sends, not the Content-Length it
// announced. A gzipped body is read as it arrived first (at most maxBody
// bytes), then decompressed (at most maxBody bytes again): a gzip bomb costs
// at most twice maxBody. It returns the bytes that arrived also when they
// are no gzip, for the journal to keep.
func readBody(c echo.Context, maxBody int64, gzipped bool) (body, arrived []byte, err error) {
	req := c.Request()
	if req.ContentLength > maxBody {
		return nil, nil, tooLarge(maxBody)
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil, nil
	}
	// Grown as the bytes arrive (io.ReadAll), never sized by the
	// Content-Length announced: 2,000 connections announcing 1 MiB and
	// sending a byte would hold 2 GB.
	arrived, err = io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, maxBody))
	if err != nil {
		return nil, arrived, bodyReadError(c, err)
	}
	if !gzipped {
		return arrived, arrived, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(arrived))
	if err != nil {
		return nil, arrived, notGzip(arrived)
	}
	// gzip's trailer gives the size, modulo 2^32. The body has arrived
	// whole; a size that lies costs at most what deflate's largest ratio
	// (1032:1) could make of it, and never more than the limit.
	var size int64
	if len(arrived) >= 4 { // it is: gzip.NewReader read a 10-byte header
		size = int64(binary.LittleEndian.Uint32(arrived[len(arrived)-4:]))
	}
	body, err = readAll(io.LimitReader(zr, maxBody+1), min(size, maxBody+1, 1032*int64(len(arrived))))
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, arrived, notGzip(arrived)
	case err != nil:
		return nil, arrived, err
	case int64(len(body)) > maxBody:
		return nil, arrived, tooLarge(maxBody)
	}
	return body, arrived, nil
}

// readAll is io.ReadAll into a buffer first made size bytes long (a size
// known from what has arrived: gzip's record of it, a file's), so that the
// bytes cost their size once rather than io.ReadAll's doublings, about twice
// it. A wrong size costs only the doublings again.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, max(size, 0)+1) // +1: the read that finds the end needs room
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// notGzip is the 400 for a body labelled gzip that is none, saying what it
// is. The usual cause is kiota-http-go's (issue 183): its middleware runs
// from the outside in, and when the retry handler comes before the
// compression handler a retry resends the plain body under the gzip label
// (examples/graphsdk shows both orders with the SDK's own handlers).
func notGzip(arrived []byte) *apiError {
	var what string
	switch trimmed := bytes.TrimLeft(arrived, " \t\r\n"); {
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		what = fmt.Sprintf("it is %d bytes of plain JSON", len(arrived))
	case len(arrived) >= 2 && arrived[0] == 0x1f && arrived[1] == 0x8b:
		what = fmt.Sprintf("it is %d bytes of gzip cut short or corrupt", len(arrived))
	default:
		what = fmt.Sprintf("it is %d bytes beginning %s", len(arrived), reqcheck.Quote(string(arrived[:min(len(arrived), 16)])))
	}
	return badRequest([]reqcheck.Violation{{Target: echo.HeaderContentEncoding, Message: "The body is labelled Content-Encoding: gzip but " + what +
		". A client that compresses request bodies must compress every attempt: with kiota-http-go, put the compression handler before the retry handler in the middleware list (issue 183), or send the body uncompressed."}})
}

// bodyReadError is the 400 for a body that stopped short. When the server's
// read timeout cut it, the write deadline (set at the same moment by
// net/http) has passed too: it is moved a little, so that the client is told.
func bodyReadError(c echo.Context, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(errorWriteGrace))
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	return badRequest([]reqcheck.Violation{{Message: msgBodyStopped}})
}

// errorWriteGrace is how long the 400 for a body cut by the read timeout has to be written.
const errorWriteGrace = 5 * time.Second

// shadow is a more concrete spec path that Echo's router lets this
// operation's template swallow: for …/members/{connectorId} (GET), the path
// …/members/$ref (POST only). OpenAPI matches the concrete path first, so a
// request whose parameters spell it out is a 405 for that path, not a call
// to this operation with connectorId "$ref".
type shadow struct {
	literals map[string]string // parameter name -> the concrete path's segment
	allow    string            // the methods the concrete path serves
}

func (sh shadow) matches(c echo.Context) bool {
	for name, literal := range sh.literals {
		if c.Param(name) != literal {
			return false
		}
	}
	return true
}

// shadowsOf lists the paths of the generated operations that are more
// concrete than op's and do not serve its method.
func shadowsOf(op reqcheck.Operation, operations []reqcheck.Operation) []shadow {
	segs := strings.Split(op.Path, "/")
	methods := map[string][]string{}
	for _, other := range operations {
		if other.Method != http.MethodOptions { // a CORS preflight (cors.go), not a method the path serves
			methods[other.Path] = append(methods[other.Path], other.Method)
		}
	}
	var out []shadow
	for path, allowed := range methods {
		if path == op.Path || slices.Contains(allowed, op.Method) {
			continue
		}
		osegs := strings.Split(path, "/")
		if len(osegs) != len(segs) {
			continue
		}
		literals := map[string]string{}
		match := true
		for i, seg := range segs {
			param, isParam := strings.CutPrefix(seg, "{")
			oParam := strings.HasPrefix(osegs[i], "{")
			switch {
			case isParam && !oParam:
				literals[strings.TrimSuffix(param, "}")] = osegs[i]
			case !isParam && (oParam || seg != osegs[i]):
				match = false
			}
		}
		if match && len(literals) > 0 {
			slices.Sort(allowed)
			out = append(out, shadow{literals: literals, allow: strings.Join(allowed, ", ")})
		}
	}
	return out
}

func unsupportedMediaType(message string) *apiError {
	return &apiError{status: http.StatusUnsupportedMediaType, code: generated.ErrorCodeUnsupportedMediaType,
		message: message, target: echo.HeaderContentType}
}

func tooLarge(limit int64) *apiError {
	return &apiError{status: http.StatusRequestEntityTooLarge, code: generated.ErrorCodeRequestEntityTooLarge,
		message: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
}
