package server

import (
	"net/http"
	"strings"
)

// routePath is the path a request is routed on, and the version prefix it
// came under ("" for none), read from the request without changing it: the
// escaped path, with the OData segment $ref spelled %24ref read as $ref (no
// other escape changes routing: %2F stays part of its segment), and a version
// prefix before the service's paths left out (routeVersion).
func routePath(r *http.Request, roots map[string]bool) (prefix, path string) {
	path = r.URL.Path
	if raw := r.URL.RawPath; raw != "" {
		path, _ = unescapeDollar(raw)
	}
	return routeVersion(path, roots)
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
