package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server/store"
)

// Messages the real service sends, kept word for word so that code written
// against the mock meets the same text in production.
const (
	msgAlreadyMember  = "One or more added object references already exist for the following modified properties: 'members'."
	msgNotFoundRoute  = "The requested resource does not exist."
	msgInternal       = "An unexpected error occurred. The request-id identifies the details in the server's log."
	msgBodyStopped    = "The request body could not be read."
	msgMethodNotFound = "The method is not allowed on this resource."
	msgEntityTooLarge = "The request body is larger than the server accepts."
	msgNoContentType  = "The request has a body but no Content-Type."
	msgTokenEmpty     = "Access token is empty."
	msgTokenTwice     = "Access token validation failure: send one Authorization header, not several."
	msgTokenMalformed = "Access token validation failure: the Authorization header must be 'Bearer <token>'."
	msgTokenWrong     = "Access token validation failure: the token is not the one this server accepts."
	msgInvalidSkipTok = "value is not a $skiptoken this server issued for this listing and this $filter and $orderby"
	wwwAuthenticate   = "Bearer"
	wwwAuthInvalidTok = `Bearer error="invalid_token"`
	headerRequestID   = "request-id"
	headerClientReqID = "client-request-id"
	headerODataEntity = "OData-EntityId"
	headerPrefApplied = "Preference-Applied"
	headerWWWAuth     = "WWW-Authenticate"
)

// statusClientGone is what the log records for a request whose client went away.
const statusClientGone = 499

// apiError is a failure on its way to the client: the one error handler renders
// it in the OData envelope. Everything the server refuses becomes one of these.
type apiError struct {
	status     int
	code       generated.ErrorCode
	message    string
	target     string
	violations []reqcheck.Violation // the details of a 400
	fault      int                  // the status of an injected fault, or 0
	header     http.Header          // extra response headers, such as WWW-Authenticate
	cause      error                // logged, never sent
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.status, e.code, e.message, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

func (e *apiError) Unwrap() error { return e.cause }

// badRequest is a 400 whose details list every violation; the summary repeats the first.
func badRequest(violations []reqcheck.Violation) *apiError {
	e := &apiError{status: http.StatusBadRequest, code: generated.ErrorCodeRequestBadRequest, violations: violations}
	if len(violations) > 0 {
		e.message, e.target = violations[0].Message, violations[0].Target
	}
	return e
}

func unauthorized(message, challenge string) *apiError {
	return &apiError{
		status:  http.StatusUnauthorized,
		code:    generated.ErrorCodeInvalidAuthenticationToken,
		message: message,
		target:  echo.HeaderAuthorization,
		header:  http.Header{http.CanonicalHeaderKey(headerWWWAuth): {challenge}},
	}
}

func notFound(message string) *apiError {
	return &apiError{status: http.StatusNotFound, code: generated.ErrorCodeRequestResourceNotFound, message: message}
}

// memberNotFound is the 404 for a member that does not exist, with the
// service's message and connectorId as its target. (A path no route has is a
// 400 naming the segment, as Graph answers it, so a client never mistakes a
// wrong base URL for a missing member.)
func memberNotFound(id fmt.Stringer) *apiError { return notFoundAt(id, "connectorId") }

// notFoundAt is the service's 404 for the entity id, named at target.
func notFoundAt(id fmt.Stringer, target string) *apiError {
	e := notFound(fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
	e.target = target
	return e
}

// classify maps any error a handler or middleware returns onto the apiError
// that describes it to the client. Unknown errors become a 500 whose cause is
// kept for the log only.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case errors.Is(err, store.ErrDuplicateMember):
		return &apiError{status: http.StatusBadRequest, code: generated.ErrorCodeRequestBadRequest, message: msgAlreadyMember, cause: err}
	case errors.Is(err, store.ErrMemberNotFound):
		return &apiError{status: http.StatusNotFound, code: generated.ErrorCodeRequestResourceNotFound, message: err.Error(), cause: err}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return classifyHTTPError(he)
	}
	return &apiError{status: http.StatusInternalServerError, code: generated.ErrorCodeInternalServerError, message: msgInternal, cause: err}
}

// classifyHTTPError covers the errors Echo and the generated wrappers raise
// themselves: routing failures and parameter binding.
func classifyHTTPError(he *echo.HTTPError) *apiError {
	switch he.Code {
	case http.StatusNotFound:
		return notFound(msgNotFoundRoute)
	case http.StatusMethodNotAllowed:
		return &apiError{status: he.Code, code: generated.ErrorCodeMethodNotAllowed, message: msgMethodNotFound}
	case http.StatusRequestEntityTooLarge:
		return &apiError{status: he.Code, code: generated.ErrorCodeRequestEntityTooLarge, message: msgEntityTooLarge}
	case http.StatusUnsupportedMediaType:
		return &apiError{status: he.Code, code: generated.ErrorCodeUnsupportedMediaType, message: fmt.Sprint(he.Message)}
	case http.StatusBadRequest:
		return badRequest([]reqcheck.Violation{{Message: fmt.Sprint(he.Message)}})
	case http.StatusUnauthorized:
		return unauthorized(msgTokenMalformed, wwwAuthenticate)
	}
	return &apiError{status: http.StatusInternalServerError, code: generated.ErrorCodeInternalServerError, message: msgInternal, cause: he}
}

// renderError is the one path every failure takes to the client: it renders
// the OData envelope with the request's ids, logs what the client is not
// told, and returns how the request was answered. Echo's own errors (no
// route, wrong method) come here too; no route is Graph's 400 naming the
// segment no route has.
func renderError(rc *requestContext, logger *slog.Logger, routes knownPaths, err error) outcome {
	if errors.Is(err, echo.ErrNotFound) {
		err = routes.noRoute(rc.Request().URL.EscapedPath())
	}
	if errors.Is(err, errClientGone) {
		// Nothing is written: the log says 499, nginx's "client closed request".
		return outcome{status: statusClientGone}
	}
	if rc.Response().Committed {
		logger.ErrorContext(rc.Request().Context(), "error after the response was committed",
			slog.String("request_id", rc.id.String()), slog.Any("error", err))
		return outcome{status: rc.Response().Status}
	}
	ae := classify(err)
	if ae.status >= http.StatusInternalServerError && ae.fault == 0 {
		logger.ErrorContext(rc.Request().Context(), "internal error",
			slog.String("request_id", rc.id.String()), slog.Any("error", err))
	}
	for k, vs := range ae.header {
		rc.Response().Header()[k] = vs
	}
	if werr := rc.JSON(ae.status, envelope(rc, ae)); werr != nil {
		logger.ErrorContext(rc.Request().Context(), "writing the error response",
			slog.String("request_id", rc.id.String()), slog.Any("error", werr))
	}
	return outcome{status: ae.status, code: ae.code, violations: ae.violations, fault: ae.fault}
}

// envelope builds the documented error body for ae.
func envelope(rc *requestContext, ae *apiError) generated.ODataError {
	body := generated.ODataError{Error: generated.MainError{
		Code:    ae.code,
		Message: ae.message,
		InnerError: generated.InnerError{
			Date:      time.Now().UTC().Truncate(time.Second),
			RequestID: rc.id,
		},
	}}
	if ae.target != "" {
		body.Error.Target = &ae.target
	}
	if len(ae.violations) > 0 {
		details := make([]generated.ErrorDetail, len(ae.violations))
		for i, v := range ae.violations {
			details[i] = generated.ErrorDetail{Code: ae.code, Message: v.Message}
			if v.Target != "" {
				details[i].Target = &v.Target
			}
		}
		body.Error.Details = &details
	}
	if id := rc.cid; id != "" {
		body.Error.InnerError.ClientRequestID = &id
	}
	return body
}
