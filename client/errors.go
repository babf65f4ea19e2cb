package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/connector-group/members-api/generated"
)

// Sentinel errors to test an *APIError against with errors.Is.
var (
	// ErrNotFound: no such member, connector or group (404 Request_ResourceNotFound, with or
	// without a target, as the real service sends it). A path the server
	// does not serve, as from a wrong base URL, is Graph's 400 BadRequest
	// ("Resource not found for the segment …"): ErrInvalidRequest.
	ErrNotFound = errors.New("no such member")
	// ErrAlreadyMember: the connector is already a member of the group (400).
	ErrAlreadyMember = errors.New("already a member")
	// ErrUnauthorized: the bearer token is missing, malformed or wrong (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrInvalidRequest: the request breaks the API description (400, other than ErrAlreadyMember).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrThrottled: the server throttled the call (429), retries included.
	ErrThrottled = errors.New("throttled")
)

// APIError is a non-2xx answer from the server, as the OData error envelope
// describes it. An answer that is not the envelope (a proxy's HTML page)
// still gives an APIError, with the status and the start of the body as
// Message.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is error.code, such as Request_BadRequest; empty when the body was no envelope.
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
	// RetryAfter is how long the server asked to wait (Retry-After), or 0.
	RetryAfter time.Duration
	// Attempts is how many attempts the call made.
	Attempts int
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
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
		return e.StatusCode == http.StatusNotFound && e.Code == generated.ErrorCodeRequestResourceNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrAlreadyMember:
		return e.alreadyMember()
	case ErrInvalidRequest:
		return e.StatusCode == http.StatusBadRequest && !e.alreadyMember()
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
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

// ResponseError is the *APIError of a non-2xx answer read by other means
// (the generated clients, say): the envelope read as the client reads it,
// leniently, the code and message never lost to a field that does not parse.
func ResponseError(status int, header http.Header, body []byte) *APIError {
	return (&reply{status: status, header: header, body: body, attempts: 1}).apiError()
}

// apiError reads the error envelope of a non-2xx answer.
func (r *reply) apiError() *APIError {
	e := &APIError{
		StatusCode:      r.status,
		RequestID:       r.header.Get("request-id"),
		ClientRequestID: r.clientRequestID,
		Attempts:        r.attempts,
	}
	if d := retryAfter(r.header, time.Now()); d > 0 {
		e.RetryAfter = d
	}
	var env wireError
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error.Code == "" {
		e.Message = http.StatusText(r.status)
		if s := strings.TrimSpace(string(r.body)); s != "" {
			e.Message += ": " + truncate(s, 200)
		}
		return e
	}
	e.Code = env.Error.Code
	e.Message = env.Error.Message
	if env.Error.Target != nil {
		e.Target = *env.Error.Target
	}
	e.Details = env.Error.Details
	if e.RequestID == "" {
		e.RequestID = env.Error.InnerError.RequestID
	}
	return e
}

// wireError is the error envelope as the real service writes it: the
// generated ODataError's code, message, target and details, with the
// diagnostics of innerError read as text. The service writes its date
// without a UTC offset ("2021-07-02T01:40:19") and ids that need not be
// GUIDs, and it may add properties: none of that may hide the code and the
// message, which is all a caller acts on.
type wireError struct {
	Error struct {
		Code       generated.ErrorCode     `json:"code"`
		Message    string                  `json:"message"`
		Target     *string                 `json:"target"`
		Details    []generated.ErrorDetail `json:"details"`
		InnerError struct {
			Date      string `json:"date"`
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// UnexpectedResponseError is a success answer that is not what the API
// describes: a body that is not JSON, or a member without an id.
type UnexpectedResponseError struct {
	StatusCode int
	RequestID  string
	Reason     string
}

func (e *UnexpectedResponseError) Error() string {
	s := fmt.Sprintf("client: the %d answer is not what the API describes: %s", e.StatusCode, e.Reason)
	if e.RequestID != "" {
		s += " [request-id " + e.RequestID + "]"
	}
	return s
}

func (r *reply) unexpected(reason string) error {
	return &UnexpectedResponseError{StatusCode: r.status, RequestID: r.header.Get("request-id"), Reason: reason}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
