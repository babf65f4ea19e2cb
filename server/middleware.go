package server

import (
	"encoding/binary"
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
)

// requestContext is the Echo context of one request with what the server
// learns about the request on its way through: Echo's documented way to carry
// typed values from middleware to handler, without a map per request.
type requestContext struct {
	echo.Context
	id     uuid.UUID     // the request-id
	method string        // the method the client sent
	body   any           // the body the generated validator decoded, or nil
	prefer preferences   // what the Prefer header asks for
	fault  int           // the status of the fault injected, or 0
	delay  time.Duration // the latency injected

	operation string                  // the operationId, once routed to one
	rawBody   []byte                  // the request body as read (decompressed)
	errorCode string                  // error.code of the answer, if it was an error
	details   []generated.ErrorDetail // the violations, if it was a 400
}

// target is the target of violation i of the answer ("" for the body as a whole).
func (rc *requestContext) target(i int) string {
	if t := rc.details[i].Target; t != nil {
		return *t
	}
	return ""
}

// requestOf is the requestContext of c; every request gets one from
// withCommon before anything else runs.
func requestOf(c echo.Context) *requestContext {
	if rc, ok := c.(*requestContext); ok {
		return rc
	}
	return &requestContext{Context: c, method: c.Request().Method}
}

var canonicalClientRequestID = http.CanonicalHeaderKey(headerClientReqID)

// observers are what learns of every answered request: the access log, the
// journal and the metrics.
type observers struct {
	logger  *slog.Logger
	journal *journal
	metrics *metrics
}

// withCommon is what every request goes through, unknown routes included, in
// this order: a request-id and the client-request-id echoed before anything
// can fail; OPTIONS refused; a panic recovered into an error; the error
// rendered, so that the status logged is the status sent; one access log
// line, the journal entry (but for the admin API, /metrics and /docs), the metrics.
func withCommon(obs observers) echo.MiddlewareFunc {
	logger := obs.logger
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			req := c.Request()
			rc := &requestContext{Context: c, id: newGUID(), method: req.Method}
			h := c.Response().Header()
			h.Set(headerRequestID, rc.id.String())
			if cid := req.Header[canonicalClientRequestID]; len(cid) > 0 && cid[0] != "" {
				h[canonicalClientRequestID] = cid[:1]
			}
			if err := callRecovering(rc, next); err != nil {
				renderError(rc, logger, err)
			}
			attrs := []slog.Attr{
				slog.String("method", rc.method),
				slog.String("path", req.URL.Path),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", h.Get(headerRequestID)),
			}
			if rc.fault != 0 {
				attrs = append(attrs, slog.Int("fault", rc.fault))
			}
			if rc.delay != 0 {
				attrs = append(attrs, slog.Duration("latency", rc.delay))
			}
			logger.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
			duration := time.Since(start)
			obs.metrics.observe(rc, duration.Seconds())
			if obs.journal.enabled() && !unjournaled(req.URL.Path) {
				obs.journal.add(packRequest(rc, start, duration))
			}
			return nil
		}
	}
}

// unjournaled are the paths the journal leaves out: reading it must not
// change it, and the pages' own loads are not what a test asks about.
func unjournaled(path string) bool {
	return strings.HasPrefix(path, "/_admin/") || path == "/metrics" || path == "/docs" || strings.HasPrefix(path, "/docs/")
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
