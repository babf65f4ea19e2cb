package server

import (
	"net/http"
	"strings"
)

// normalizePath prepares a request's path for routing, before Echo sees it:
// the OData segment $ref may be spelled %24ref; no other escape changes
// routing: %2F stays part of its segment; a version prefix before the
// service's paths is routed as the root (stripVersion).
func normalizePath(next http.Handler, roots map[string]bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = stripVersion(r, roots)
		if u := r.URL; u.RawPath != "" {
			if raw, changed := unescapeDollar(u.RawPath); changed {
				if strings.IndexByte(raw, '%') < 0 {
					// Nothing else was escaped: route on the plain path.
					u.RawPath = ""
				} else {
					u.RawPath = raw
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// unescapeDollar replaces every %24 (either case) in an escaped path with $,
// in one pass.
func unescapeDollar(raw string) (string, bool) {
	i := strings.Index(raw, "%2")
	if i < 0 {
		return raw, false
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) && raw[i+1] == '2' && raw[i+2] == '4' {
			if !changed {
				b.Grow(len(raw))
				b.WriteString(raw[:i])
				changed = true
			}
			b.WriteByte('$')
			i += 2
			continue
		}
		if changed {
			b.WriteByte(raw[i])
		}
	}
	if !changed {
		return raw, false
	}
	return b.String(), true
}
