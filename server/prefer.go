package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/connector-group/members-api/server/faults"
)

// preferences are what a request's Prefer header asks for, read once.
type preferences struct {
	// representation: return=representation, an add answered 201 with the
	// connector rather than 204.
	representation bool
	// fault is the status asked for with code=NNN (Stoplight Prism's
	// convention) when it is one of the fault statuses, otherwise 0.
	fault int
}

var canonicalPrefer = http.CanonicalHeaderKey("Prefer")

// parsePrefer reads the preferences of RFC 7240 from the items of the
// Prefer list (reqcheck.Input.Items has split its lines on commas): each a
// token with an optional value and parameters after ";". The first of each
// preference counts; parameters and unknown preferences change nothing, nor
// do code= values that name no fault.
func parsePrefer(items []string) preferences {
	var p preferences
	var sawReturn bool
	for _, pref := range items {
		pref, _, _ = strings.Cut(pref, ";")
		name, value, _ := strings.Cut(pref, "=")
		name, value = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), `"`)
		switch {
		case strings.EqualFold(name, "return") && !sawReturn:
			sawReturn = true
			p.representation = strings.EqualFold(value, "representation")
		case strings.EqualFold(name, "code") && p.fault == 0:
			if code, err := strconv.Atoi(value); err == nil && faults.IsStatus(code) {
				p.fault = code
			}
		}
	}
	return p
}
