package server_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
)

// TestEveryHeadIsItsGet: in both specs every GET has a HEAD beside it, whose
// responses have no content, and the server answers each HEAD as the GET:
// the same status and headers (but the request's own ids and the length of
// a body not sent), and no body. Every path is tried for a 200 and for an
// error (an id that is not a GUID, where the path has one).
func TestEveryHeadIsItsGet(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	id := h.addMember(app, "head")
	checker := specChecker(t)
	pairs := 0
	for _, spec := range []*openapi3.T{checker.Spec(), checker.AdminSpec()} {
		for _, path := range slices.Sorted(maps.Keys(spec.Paths.Map())) {
			item := spec.Paths.Value(path)
			if item.Get == nil {
				continue
			}
			if item.Head == nil {
				t.Errorf("GET %s has no HEAD", path)
				continue
			}
			// Written out beside its GET (no merge keys), a HEAD takes the
			// GET's parameters and tags, so that a request one accepts the
			// other does.
			params := func(op *openapi3.Operation) []string {
				var names []string
				for _, p := range op.Parameters {
					names = append(names, p.Value.In+":"+p.Value.Name)
				}
				slices.Sort(names)
				return names
			}
			if g, hd := params(item.Get), params(item.Head); !slices.Equal(g, hd) {
				t.Errorf("%s: GET takes %v, HEAD %v", path, g, hd)
			}
			if !slices.Equal(item.Get.Tags, item.Head.Tags) {
				t.Errorf("%s: GET tagged %v, HEAD %v", path, item.Get.Tags, item.Head.Tags)
			}
			for status, response := range item.Head.Responses.Map() {
				if r := response.Value; r != nil && len(r.Content) > 0 {
					t.Errorf("HEAD %s: the %s response has content", path, status)
				}
			}
			good := strings.NewReplacer("{applicationsId}", app, "{connectorGroupId}", app, "{connectorId}", id,
				"{asset}", "swagger-ui.css").Replace(path)
			targets := []string{good}
			if bad := strings.NewReplacer("{applicationsId}", "x", "{connectorGroupId}", "x", "{connectorId}", "x").Replace(path); bad != path {
				targets = append(targets, bad)
			}
			for _, target := range targets {
				pairs++
				get := h.do(http.MethodGet, target, authed(), nil)
				head := h.do(http.MethodHead, target, authed(), nil)
				if head.status != get.status {
					t.Errorf("%s: HEAD %d, GET %d", target, head.status, get.status)
				}
				if len(head.body) > 0 {
					t.Errorf("HEAD %s: a body of %d bytes", target, len(head.body))
				}
				for _, name := range []string{"Request-Id", "Content-Length", "Date"} {
					delete(get.header, name)
					delete(head.header, name)
				}
				if !maps.EqualFunc(get.header, head.header, slices.Equal) {
					t.Errorf("%s: HEAD headers %v, GET headers %v", target, head.header, get.header)
				}
			}
		}
	}
	if pairs < 20 {
		t.Errorf("only %d HEAD and GET pairs compared", pairs)
	}
	t.Logf("%d HEAD and GET pairs compared", pairs)
}
