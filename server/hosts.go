package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/connector-group/members-api/generated"
)

// hostPolicy says which Host names the mock answers. A web page the
// developer opens can make the browser send requests to the mock on
// 127.0.0.1 under a name of the attacker's that resolves there (DNS
// rebinding): the browser then treats the mock as that page's own origin.
// Such a request still names the attacker's host, so the mock answers only
// IP literals, localhost and *.localhost (which no public DNS can make
// point anywhere), and the names given to it.
type hostPolicy struct {
	any   bool            // "*": no check
	names map[string]bool // further names allowed, lower case
}

// newHostPolicy allows names besides the defaults; "*" allows any.
func newHostPolicy(names []string) (hostPolicy, error) {
	p := hostPolicy{names: map[string]bool{}}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		switch {
		case n == "*":
			p.any = true
		case n == "" || strings.ContainsAny(n, "/:@ \t"):
			return hostPolicy{}, fmt.Errorf("allowed host %q: want a host name without a port, or *", n)
		default:
			p.names[strings.TrimSuffix(n, ".")] = true
		}
	}
	return p, nil
}

// allows tells whether the mock answers a request whose Host is hostport.
// A request without a Host (HTTP/1.0 may omit it) names no foreign host.
func (p hostPolicy) allows(hostport string) bool {
	if p.any || hostport == "" {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || p.names[host]
}

// forbiddenHost is the answer to a request for a host name not allowed.
func forbiddenHost(hostport string) *apiError {
	return &apiError{status: http.StatusForbidden, code: generated.ErrorCodeForbidden, target: "Host",
		message: fmt.Sprintf("Host %s is not one this mock answers: it answers IP addresses, localhost, *.localhost "+
			"and the names given with --allowed-hosts (a defence against DNS rebinding).", quoteHost(hostport))}
}

func quoteHost(h string) string {
	if len(h) > 64 {
		h = h[:64] + "…"
	}
	return fmt.Sprintf("%q", h)
}
