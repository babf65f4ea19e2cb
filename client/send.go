package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// MaxResponseBytes bounds what the client reads of one answer (a page of 999
// members is some 200 KB).
const MaxResponseBytes = 32 << 20

// reply is the server's last answer to a call.
type reply struct {
	status          int
	header          http.Header
	body            []byte
	attempts        int
	clientRequestID string
}

// send makes the call req, retrying as the package documentation says, and
// returns the last answer read whole. An error means no answer was had.
func (c *Client) send(ctx context.Context, req *http.Request, cs *call) (*reply, error) {
	clientRequestID := cs.header.Get(headerClientRequestID)
	if clientRequestID == "" {
		clientRequestID = uuid.NewString()
	}
	var callEnds time.Time // by the client's clock, which the waits are read with
	if c.callTimeout > 0 {
		callEnds = c.now().Add(c.callTimeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.callTimeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("client: %s %s: %w", req.Method, req.URL.Redacted(), err)
		}
		rep, err := c.attempt(ctx, req, cs, clientRequestID, attempt)
		delay, retry := c.retryDelay(ctx, rep, err, attempt, cs.once)
		if deadline, ok := ctx.Deadline(); retry && ok && deadline.Sub(c.now()) < delay {
			retry = false // the wait would outlast the call: give the caller what there is now
		}
		if retry && !callEnds.IsZero() && callEnds.Sub(c.now()) < delay {
			retry = false // the wait would outlast WithCallTimeout
		}
		if retry && delay > c.maxRetryWait {
			retry = false // longer than the caller lets a server make it wait: its answer says how long, in RetryAfter
		}
		if c.observe != nil {
			a := Attempt{Method: req.Method, URL: req.URL.Redacted(), N: attempt + 1, Err: err}
			if rep != nil {
				a.StatusCode, a.RequestID = rep.status, rep.header.Get("request-id")
			}
			if retry {
				a.RetryIn = delay
			}
			c.observe(a)
		}
		if !retry {
			if err != nil {
				return nil, err
			}
			if cs.inspect != nil {
				*cs.inspect = Response{StatusCode: rep.status, RequestID: rep.header.Get("request-id"),
					ClientRequestID: clientRequestID, Attempts: rep.attempts, Header: rep.header}
			}
			return rep, nil
		}
		if err := c.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("client: %s %s: waiting to retry: %w", req.Method, req.URL.Redacted(), err)
		}
	}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryDelay says whether to retry after attempt n, and after how long. A
// call made once (a create) is retried only when the server cannot have
// acted on it: the connection was refused, or it answered 429 or 503 (a
// 504, a reset or a closed connection may follow a create that was made).
func (c *Client) retryDelay(ctx context.Context, rep *reply, err error, n int, once bool) (time.Duration, bool) {
	switch {
	case n >= c.retries:
		return 0, false
	case err != nil && once:
		return backoff(n), notConnected(ctx, err)
	case err != nil:
		return backoff(n), connectionFailed(ctx, err)
	case !retryable(rep.status), once && rep.status == http.StatusGatewayTimeout:
		return 0, false
	}
	if d := retryAfter(rep.header, c.now()); d >= 0 {
		return d, true
	}
	return backoff(n), true
}

// attempt sends req once, within the client's timeout, and reads the answer
// whole before that timeout ends.
func (c *Client) attempt(ctx context.Context, req *http.Request, cs *call, clientRequestID string, n int) (*reply, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	r := req.Clone(actx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
		r.Body = body
	}
	for k, v := range cs.header {
		r.Header[k] = v
	}
	r.Header.Set(headerClientRequestID, clientRequestID)
	if n > 0 {
		r.Header.Set("Retry-Attempt", strconv.Itoa(n))
	}
	if c.agent != "" {
		r.Header.Set("User-Agent", c.agent)
	}
	if c.token != nil {
		token, err := c.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("client: getting a token: %w", err)
		}
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rsp, err := c.doer.Do(r)
	if err != nil {
		return nil, describeFailure(req, err, actx, ctx)
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(rsp.Body, MaxResponseBytes))
	if err != nil {
		return nil, describeFailure(req, err, actx, ctx)
	}
	return &reply{status: rsp.StatusCode, header: rsp.Header, body: body, attempts: n + 1, clientRequestID: clientRequestID}, nil
}

// describeFailure says why an attempt had no answer: the attempt's timeout,
// the caller's context, or the connection.
func describeFailure(req *http.Request, err error, attempt, call context.Context) error {
	where := req.Method + " " + req.URL.Redacted()
	switch {
	case call.Err() != nil:
		return fmt.Errorf("client: %s: %w", where, call.Err())
	case attempt.Err() != nil:
		return &TimeoutError{Op: where, Err: err}
	}
	return fmt.Errorf("client: %s: %w", where, err)
}

// TimeoutError is an attempt that had no answer within the client's timeout.
type TimeoutError struct {
	Op  string
	Err error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("client: %s: no answer within the timeout: %v", e.Op, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout reports true, as net.Error's Timeout does.
func (e *TimeoutError) Timeout() bool { return true }

// connectionFailed tells a failed connection (refused, reset, closed before
// the answer), which is retried, from a timeout or a cancelled call, which
// are not.
func connectionFailed(ctx context.Context, err error) bool {
	var te *TimeoutError
	if ctx.Err() != nil || errors.As(err, &te) {
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// notConnected tells a connection that was never made (refused, or the
// dial failed), so no request reached the server.
func notConnected(ctx context.Context, err error) bool {
	var op *net.OpError
	return ctx.Err() == nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &op) && op.Op == "dial")
}

// retryable are the statuses that say "try again later".
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// retryAfter reads Retry-After: seconds, fractional seconds or an HTTP date;
// -1 when there is none to read.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return -1
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && secs < 1e6 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// Backoff bounds: the first retry waits about 200 ms, each next one twice as
// long, never more than 10 s.
const (
	backoffBase = 200 * time.Millisecond
	backoffCap  = 10 * time.Second
)

// backoff is how long to wait before retry n+1 when the server did not say:
// exponential, capped, and jittered over its upper half so that clients that
// failed together do not retry together.
func backoff(n int) time.Duration {
	d := backoffCap
	if n < 16 {
		d = min(backoffBase<<n, backoffCap)
	}
	return d/2 + rand.N(d/2+1)
}

// DefaultUserAgent is the User-Agent a Client sends unless WithUserAgent says
// otherwise: this client and the version of the module it was built from.
func DefaultUserAgent() string {
	version := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		const module = "github.com/connector-group/members-api"
		if bi.Main.Path == module && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, dep := range bi.Deps {
			if dep.Path == module {
				version = dep.Version
			}
		}
	}
	return "connector-client-go/" + version
}
