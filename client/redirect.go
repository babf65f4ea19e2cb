package client

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// KeepTokenAtOrigin returns a copy of hc whose redirects never carry the
// Authorization header to another origin (RFC 6454: scheme, host and port).
// net/http drops it only for another host name, so a redirect from
// 127.0.0.1:8080 to 127.0.0.1:9000 would hand the token to whatever listens
// there. hc's own CheckRedirect, if any, still decides whether to follow.
func KeepTokenAtOrigin(hc *http.Client) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, via[0].URL) {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 { // net/http's own limit
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// sameOrigin tells whether a and b are one origin: scheme, host and port,
// the port defaulting by scheme.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
