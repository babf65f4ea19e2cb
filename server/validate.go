package server

import (
	"compress/flate"
	"compress/gzip"
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
)

// operationMiddleware is what runs in front of one operation's generated
// wrapper, in this order: a request that names a more concrete path of the
// spec (405); the bearer token (401); for a member operation, the
// misbehaviour asked for (throttling, a fault, latency: faults.go), so that a
// faulted request changes nothing; an empty path segment (404); the
// Content-Type and Content-Encoding (415); the body's size (413); and then
// the generated validator, which checks the parameters, headers and body and
// decodes the body into the generated model (400 listing every violation).
func operationMiddleware(op reqcheck.Operation, auth func(http.Header) (string, error), misbehave *injector, maxBody int64, shadows []shadow) echo.MiddlewareFunc {
	member := slices.Contains(op.Tags, memberTag)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			requestOf(c).operation = op.ID
			// The route first (DESIGN: 404/405 before 401), as Echo's router
			// would answer it if it knew the spec's more concrete paths.
			for _, sh := range shadows {
				if sh.matches(c) {
					c.Response().Header().Set(echo.HeaderAllow, sh.allow)
					return echo.ErrMethodNotAllowed
				}
			}
			var token string
			if op.Secured {
				var err error
				if token, err = auth(req.Header); err != nil {
					return err
				}
			}
			prefer := parsePrefer(req.Header[canonicalPrefer])
			requestOf(c).prefer = prefer
			if lines := req.Header[canonicalPrefer]; len(lines) > 1 {
				// The generated binder takes one field line; several are one
				// list (RFC 9110, 5.3), so they reach it as the one line they mean.
				req.Header[canonicalPrefer] = []string{strings.Join(lines, ", ")}
			}
			var d decision
			if member {
				var err error
				if d, err = misbehaveOn(c, misbehave, token, prefer.fault, maxBody); err != nil {
					return err
				}
			}
			for _, v := range c.ParamValues()[:len(c.ParamNames())] {
				if v == "" {
					// Echo matches an empty segment to a parameter; a path template
					// does not (a path parameter is never empty), so to the spec
					// this is no route at all.
					return notFound(msgNotFoundRoute)
				}
			}
			in := reqcheck.Input{PathParam: pathParam(c), Header: req.Header}
			var vs reqcheck.Violations
			if req.URL.RawQuery != "" {
				query, err := url.ParseQuery(req.URL.RawQuery)
				if err != nil {
					vs.Add("", reqcheck.MsgInvalidQuery)
				}
				in.Query = query
			}
			if op.BodyMediaTypes != nil {
				if err := checkContentType(req, op.BodyMediaTypes); err != nil {
					return err
				}
				gzipped, err := checkContentEncoding(req.Header)
				if err != nil {
					return err
				}
				body, err := readBody(c, maxBody, gzipped)
				if err != nil {
					return err
				}
				in.Body = body
				requestOf(c).rawBody = body
			}
			if d.delay > 0 {
				if err := wait(c, d.delay); err != nil {
					return err
				}
			}
			value := op.Check(&in, &vs)
			if vs.Len() > 0 {
				return badRequest(vs.List())
			}
			requestOf(c).body = value
			return next(c)
		}
	}
}

// memberTag marks the member operations in the spec: the ones that misbehave.
const memberTag = "members"

// misbehaveOn applies what the injector decides for this request: it sets
// the rate-limit headers and, for a fault, waits out the latency and returns
// the fault; otherwise it returns the delay still to wait, which the
// middleware waits once the body is read. Only with the body read to its end
// does net/http notice a client that goes away, so the wait can be cut short
// at once. Nothing is locked while it waits.
func misbehaveOn(c echo.Context, misbehave *injector, token string, forced int, maxBody int64) (decision, error) {
	req := c.Request()
	if forced == 0 && !misbehave.active.Load() {
		return decision{}, nil
	}
	d := misbehave.decide(token, forced)
	header := c.Response().Header()
	for k, v := range d.rateLimit {
		header[k] = v
	}
	if d.fault == nil {
		return d, nil
	}
	if d.delay > 0 {
		if req.Body != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, maxBody+1))
		}
		if err := wait(c, d.delay); err != nil {
			return d, err
		}
	}
	requestOf(c).fault = d.fault.status
	e := &apiError{status: d.fault.status, code: FaultStatuses[d.fault.status], message: d.fault.message}
	if d.fault.retryAfter > 0 {
		e.header = http.Header{"Retry-After": {strconv.Itoa(d.fault.retryAfter)}}
	}
	return d, e
}

// wait waits out an injected delay, or until the client goes away.
func wait(c echo.Context, delay time.Duration) error {
	requestOf(c).delay = delay
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

// pathParam looks up a path parameter, unescaped: Echo hands them over as
// they were in the path when it routed on the escaped form.
func pathParam(c echo.Context) func(string) string {
	return func(name string) string {
		v := c.Param(name)
		if strings.IndexByte(v, '%') >= 0 {
			if u, err := url.PathUnescape(v); err == nil {
				return u
			}
		}
		return v
	}
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
// never a truncated read. Memory follows the bytes that arrive, not the
// Content-Length the client announced: a client that announces a megabyte
// and sends a byte costs a few hundred bytes. A gzipped body is decompressed
// as it arrives, maxBody applying to the decompressed bytes (and to the
// compressed ones too): a gzip bomb costs at most maxBody.
func readBody(c echo.Context, maxBody int64, gzipped bool) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > maxBody {
		return nil, tooLarge(maxBody)
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	size := int64(512)
	if !gzipped && 0 < req.ContentLength && req.ContentLength <= 16<<10 {
		size = req.ContentLength + 1 // room to see the end without growing
	}
	var src io.Reader = req.Body
	var compressed *limitedReader
	if gzipped {
		compressed = &limitedReader{r: req.Body, left: maxBody}
		zr, err := gzip.NewReader(compressed)
		if err != nil {
			return nil, gzipError(c, compressed, err, maxBody)
		}
		defer zr.Close()
		src = zr
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > maxBody {
			return nil, tooLarge(maxBody)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			if gzipped {
				return nil, gzipError(c, compressed, err, maxBody)
			}
			return nil, bodyReadError(c, err)
		}
	}
}

// limitedReader is io.LimitedReader that remembers it hit its limit, so a
// compressed body past the limit is a 413 rather than a broken gzip stream.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		l.exceeded = true
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// gzipError is the answer for a gzipped body that could not be read: too
// large compressed, cut short by the client, or not gzip at all.
func gzipError(c echo.Context, compressed *limitedReader, err error, maxBody int64) error {
	var corrupt flate.CorruptInputError
	switch {
	case compressed.exceeded:
		return tooLarge(maxBody)
	case errors.Is(err, os.ErrDeadlineExceeded) || c.Request().Context().Err() != nil:
		return bodyReadError(c, err)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest([]reqcheck.Violation{{Target: echo.HeaderContentEncoding, Message: msgNotGzip}})
	}
	return bodyReadError(c, err)
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
		methods[other.Path] = append(methods[other.Path], other.Method)
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
