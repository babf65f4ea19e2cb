package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/echoapi"
	"github.com/connector-group/members-api/internal/answercheck"
)

// Disagreement is one place where a proxied exchange and the spec differ.
type Disagreement struct {
	// Direction is "request" (the spec refuses what the client sent, and
	// --proxy-invalid forwarded it) or "response" (the service's answer).
	Direction string
	answercheck.Disagreement
}

// proxy forwards the API's operations to the service (--proxy), checks its
// answers against the spec, and records what they show of its state.
type proxy struct {
	base           *url.URL
	client         *http.Client
	forwardInvalid bool
	check          *answercheck.Checker
	record         *recorder
	maxAnswer      int64
}

// maxProxiedAnswer bounds the copy of an answer of the service the proxy
// keeps to check once it has passed it on.
const maxProxiedAnswer = 32 << 20

// hopByHop are the header fields that belong to one connection, not to the
// exchange (RFC 9110, 7.6.1), and those the proxy sets itself.
var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true, "Content-Encoding": true, "Host": true,
}

// newProxy is the proxy to base; client nil is one with timeouts that
// follows no redirect (a redirect is passed on to the client, so a token
// never follows one to another host).
func newProxy(base string, client *http.Client, forwardInvalid bool) (*proxy, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--proxy %q: want the service's base URL, such as https://graph.microsoft.com", base)
	}
	if u.User != nil {
		return nil, fmt.Errorf("--proxy: the URL carries credentials; the caller's Authorization is passed on instead")
	}
	if client == nil {
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.ResponseHeaderTimeout = time.Minute
		transport.DisableCompression = true // the answer passes on as the service sent it
		client = &http.Client{Transport: transport, Timeout: 2 * time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	check, err := answercheck.New(echoapi.GetSpec)
	if err != nil {
		return nil, fmt.Errorf("loading the spec to check answers: %w", err)
	}
	return &proxy{base: u, client: client, forwardInvalid: forwardInvalid, check: check, record: newRecorder(), maxAnswer: maxProxiedAnswer}, nil
}

// passThrough is the bearer check of a proxied operation: the token
// belongs to the service, which checks it; the mock only reads it (a rate
// limit counts per token).
func passThrough(h http.Header) (string, error) {
	token, _ := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	return token, nil
}

// forward sends the request to the service and passes its answer on. A
// request the checks refused is answered here (prepared is the refusal),
// unless it is a 400 of the spec's rules and --proxy-invalid forwards it.
func (p *proxy) forward(rc *requestContext, prepared error) error {
	ca := &rc.call
	if prepared != nil {
		var ae *apiError
		if !p.forwardInvalid || !errors.As(prepared, &ae) || ae.status != http.StatusBadRequest || len(ae.violations) == 0 {
			return prepared
		}
		for _, v := range ae.violations {
			ca.disagreements = append(ca.disagreements, Disagreement{Direction: "request",
				Disagreement: answercheck.Disagreement{Pointer: v.Target, Spec: v.Message}})
		}
	}
	req := rc.Request()
	out, err := p.outbound(req.Context(), req, ca.raw)
	if err != nil {
		return err
	}
	ca.proxied = true
	rsp, err := p.client.Do(out)
	if err != nil {
		return upstreamError(p.base.Host, err)
	}
	defer rsp.Body.Close()
	h := rc.Response().Header()
	for name, values := range rsp.Header {
		if !hopByHop[name] {
			h[name] = values
		}
	}
	if enc := rsp.Header.Get("Content-Encoding"); enc != "" {
		h.Set("Content-Encoding", enc) // passed on as sent: the body is the service's bytes
	}
	rc.Response().WriteHeader(rsp.StatusCode)
	var kept checkedCopy
	if req.Method != http.MethodHead {
		kept = p.stream(rc.Response(), rsp.Body)
	}
	switch {
	case kept.brokeOff != nil:
		ca.cutShort = true
		ca.disagreements = append(ca.disagreements, Disagreement{Direction: "response", Disagreement: answercheck.Disagreement{
			Spec: "a whole answer", Arrived: fmt.Sprintf("the service broke off after %d bytes: %v", kept.n, rootCause(kept.brokeOff))}})
	case kept.over:
		ca.disagreements = append(ca.disagreements, Disagreement{Direction: "response", Disagreement: answercheck.Disagreement{
			Spec: fmt.Sprintf("an answer the proxy can check (at most %d bytes)", p.maxAnswer), Arrived: fmt.Sprintf("%d bytes, passed on unchecked", kept.n)}})
	case kept.clientGone:
		// The client went away: what was not passed on was not read whole either.
	default:
		for _, d := range p.check.Check(req.Context(), ca.operation, req, rsp.StatusCode, rsp.Header, kept.body) {
			ca.disagreements = append(ca.disagreements, Disagreement{Direction: "response", Disagreement: d})
		}
		p.record.observe(rc, rsp.StatusCode, kept.body)
	}
	return nil
}

// checkedCopy is what stream passed on, and kept to check.
type checkedCopy struct {
	body       []byte // the answer, while it is no longer than the proxy checks
	n          int64  // the bytes passed on
	over       bool   // longer than the proxy checks: passed on, not kept
	brokeOff   error  // the service's answer ended in an error
	clientGone bool   // the client stopped reading
}

// stream passes the service's answer on as it arrives, each piece flushed
// to the client at once, and keeps a copy (up to maxAnswer) to check once
// the answer is whole. Its cost is one copy of the answer at the most; an
// answer longer than that is passed on whole and reported unchecked.
func (p *proxy) stream(w http.ResponseWriter, body io.Reader) checkedCopy {
	flusher := http.NewResponseController(w) // a batch's recorder cannot flush: nothing to do then
	var out checkedCopy
	var kept bytes.Buffer
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if !out.over {
				if int64(kept.Len()+n) > p.maxAnswer {
					out.over, kept = true, bytes.Buffer{}
				} else {
					kept.Write(buf[:n])
				}
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				out.clientGone = true
				return out
			}
			_ = flusher.Flush()
			out.n += int64(n)
		}
		if err == io.EOF {
			out.body = kept.Bytes()
			return out
		}
		if err != nil {
			out.brokeOff = err
			return out
		}
	}
}

// outbound is the request to the service: the same method, path (its
// version prefix kept) and query, the header fields but the connection's,
// and the body as read (decompressed).
func (p *proxy) outbound(ctx context.Context, req *http.Request, body []byte) (*http.Request, error) {
	target := strings.TrimSuffix(p.base.String(), "/") + req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	var r io.Reader
	if len(body) > 0 {
		r = bytes.NewReader(body)
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, target, r)
	if err != nil {
		return nil, fmt.Errorf("building the request to the service: %w", err)
	}
	for name, values := range req.Header {
		if !hopByHop[name] {
			out.Header[name] = values
		}
	}
	return out, nil
}

// upstreamError is the 502 of a service that could not be reached or
// broke off its answer.
func upstreamError(host string, err error) error {
	reason := "could not be reached"
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		reason = "did not answer in time"
	}
	return &apiError{status: http.StatusBadGateway, code: generated.ErrorCodeBadGateway,
		message: fmt.Sprintf("The service at %s %s: %v", host, reason, rootCause(err)), cause: err}
}

// rootCause is the innermost error of err, without the URL url.Error adds.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
