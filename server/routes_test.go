package server_test

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
)

// TestEveryRouteAndStatusIsInTheSpec walks every path of both specs with
// every method, in several kinds of request, and fails on any status the spec
// does not list for that operation; a method a path refuses must be a 405
// whose Allow names exactly the methods the spec has for the path.
func TestEveryRouteAndStatusIsInTheSpec(t *testing.T) {
	h := newHarness(t, server.Config{MaxBodyBytes: 512})
	check := specChecker(t)
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodTrace}
	variants := []struct {
		name   string
		header func(method string) http.Header
		body   func(path, method string) string
		query  string
	}{
		{"normal", func(string) http.Header { return jsonHeader() }, okBody, ""},
		{"no token", func(string) http.Header { return http.Header{"Content-Type": {"application/json"}} }, okBody, ""},
		{"text/plain", func(string) http.Header { return authed("Content-Type", "text/plain") }, okBody, ""},
		{"a fault on demand", func(string) http.Header { return jsonHeader("Prefer", "code=503") }, okBody, ""},
		{"too large", func(string) http.Header { return jsonHeader() }, func(string, string) string {
			return `{"machineName":"` + strings.Repeat("x", 600) + `"}`
		}, ""},
		{"an unsupported option", func(string) http.Header { return jsonHeader() }, okBody, "?$filter=x"},
		{"not JSON", func(string) http.Header { return jsonHeader() }, func(string, string) string { return "{" }, ""},
	}
	seen := map[string]map[int]bool{}
	for _, spec := range []*openapi3.T{check.Spec(), check.AdminSpec()} {
		for _, template := range spec.Paths.InMatchingOrder() {
			item := spec.Paths.Value(template)
			path := strings.NewReplacer("{applicationsId}", testApp, "{connectorId}", uuid.NewString()).Replace(template)
			var allowed []string
			for m := range item.Operations() {
				if m != http.MethodOptions { // a CORS preflight, not a method Allow lists
					allowed = append(allowed, m)
				}
			}
			sort.Strings(allowed)
			for _, method := range methods {
				op := item.GetOperation(method)
				for _, v := range variants {
					res := h.do(method, path+v.query, v.header(method), strings.NewReader(v.body(template, method)))
					key := method + " " + template
					if seen[key] == nil {
						seen[key] = map[int]bool{}
					}
					seen[key][res.status] = true
					if op == nil {
						if res.status != http.StatusMethodNotAllowed {
							t.Errorf("%s %s (%s): %d, want 405: the spec has no such operation", method, template, v.name, res.status)
							continue
						}
						allow := strings.Split(res.header.Get("Allow"), ", ")
						sort.Strings(allow)
						if !slices.Equal(allow, allowed) {
							t.Errorf("%s %s: Allow %v, want the spec's %v", method, template, allow, allowed)
						}
						for _, other := range item.Operations() {
							if other.Responses.Value("405") == nil {
								t.Errorf("%s %s: the path refuses %s with 405, which %s does not list", template, other.OperationID, method, other.OperationID)
							}
						}
						continue
					}
					if op.Responses.Value(strconv.Itoa(res.status)) == nil && op.Responses.Default() == nil {
						t.Errorf("%s %s (%s): %d, which %s does not list", method, template, v.name, res.status, op.OperationID)
					}
				}
			}
		}
	}
	// An unknown path is the BadRequest component (Graph's answer naming the
	// segment), with or without a token.
	for _, header := range []http.Header{authed(), nil} {
		if res := h.do(http.MethodGet, "/me", header, nil); res.status != http.StatusBadRequest {
			t.Errorf("an unknown path: %d", res.status)
		}
	}
	var summary []string
	for key, statuses := range seen {
		var codes []int
		for code := range statuses {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		summary = append(summary, key+" "+strings.Trim(strings.Join(strings.Fields(strings.Trim(strconv.Quote(strings.Join(strings.Fields(strings.Trim(fmtInts(codes), "[]")), ",")), `"`)), ","), ","))
	}
	sort.Strings(summary)
	t.Logf("walked %d (path, method) pairs:\n%s", len(seen), strings.Join(summary, "\n"))
}

func fmtInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// okBody is a body each operation that takes one accepts.
func okBody(template, method string) string {
	switch {
	case (method == http.MethodPut || method == http.MethodPatch) && template == "/_admin/faults":
		return `{}`
	case method == http.MethodPost && strings.HasSuffix(template, "/$ref"):
		return `{"externalIp":"203.0.113.7","machineName":"walk","status":"active"}`
	}
	return ""
}
