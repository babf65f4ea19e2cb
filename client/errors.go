package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/connector-group/members-api/generated"
)

// Sentinel errors to test an *APIError against with errors.Is.
var (
	// ErrNotFound: no such member (404).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyMember: the connector is already a member of the group (400).
	ErrAlreadyMember = errors.New("already a member")
	// ErrUnauthorized: the bearer token is missing, malformed or wrong (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrInvalidRequest: the request breaks the API description (400, other than ErrAlreadyMember).
	ErrInvalidRequest = errors.New("invalid request")
)

// APIError is a non-2xx answer from the server, as the OData error envelope
// describes it.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is error.code, such as Request_BadRequest.
	Code generated.ErrorCode
	// Message is error.message: the first problem, in one sentence.
	Message string
	// Target is error.target: a JSON pointer into the body or a parameter name.
	Target string
	// Details lists every violation of a validation failure.
	Details []generated.ErrorDetail
	// RequestID is the server's id for the request; quote it when reporting a problem.
	RequestID string
	// ClientRequestID is the id this client sent with the request.
	ClientRequestID string
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s: %s", e.StatusCode, e.Code, e.Message)
	if e.Target != "" {
		fmt.Fprintf(&b, " (target %s)", e.Target)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request-id %s]", e.RequestID)
	}
	return b.String()
}

// Is lets errors.Is match the sentinel errors of this package.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrAlreadyMember:
		return e.alreadyMember()
	case ErrInvalidRequest:
		return e.StatusCode == http.StatusBadRequest && !e.alreadyMember()
	}
	return false
}

// alreadyMember recognises the real service's answer to a duplicate add,
// "One or more added object references already exist …": a 400 that the
// service tells apart from a validation failure only by its message.
func (e *APIError) alreadyMember() bool {
	return e.StatusCode == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(e.Message), "already exist")
}

// newAPIError reads the error envelope of a non-2xx response. A body that is
// not the envelope (a proxy's HTML page, say) still gives an *APIError with
// the status and the start of the body.
func newAPIError(rsp *http.Response, body []byte) *APIError {
	e := &APIError{
		StatusCode:      rsp.StatusCode,
		RequestID:       rsp.Header.Get("request-id"),
		ClientRequestID: rsp.Request.Header.Get(headerClientRequestID),
	}
	var env generated.ODataError
	if err := json.Unmarshal(body, &env); err != nil || env.Error.Code == "" {
		e.Message = http.StatusText(rsp.StatusCode)
		if s := strings.TrimSpace(string(body)); s != "" {
			e.Message += ": " + truncate(s, 200)
		}
		return e
	}
	e.Code = env.Error.Code
	e.Message = env.Error.Message
	if env.Error.Target != nil {
		e.Target = *env.Error.Target
	}
	if env.Error.Details != nil {
		e.Details = *env.Error.Details
	}
	if e.RequestID == "" {
		e.RequestID = env.Error.InnerError.RequestID.String()
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
