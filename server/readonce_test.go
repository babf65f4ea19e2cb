package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/echoapi"
	"github.com/connector-group/members-api/generated/validation"
	"github.com/connector-group/members-api/internal/reqcheck"
	"github.com/connector-group/members-api/server"
)

// TestTheRequestIsLeftAsItCame: the server reads a request and never writes
// into it: list headers sent as several lines stay several lines (the
// journal shows them as sent), and a path under a version prefix or with
// %24ref is routed without being rewritten.
func TestTheRequestIsLeftAsItCame(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	req := newRequest(http.MethodPost, "/beta/applications/"+app+"/connectorGroup/members/%24ref", strings.NewReader(validBody))
	req.Header = jsonHeader()
	req.Header["Prefer"] = []string{"odata.maxpagesize=5", "return=representation"}
	req.Header["Client-Request-Id"] = []string{"caller-7", "sdk-generated"}
	before := *req.URL
	res := h.send(req)
	if res.status != http.StatusCreated {
		t.Fatalf("status %d, want 201 (return=representation on the second Prefer line)\n%s", res.status, res.body)
	}
	if got := res.header.Get("client-request-id"); got != "caller-7" {
		t.Errorf("client-request-id echoed %q, want the first item, caller-7", got)
	}
	if *req.URL != before {
		t.Errorf("the request's URL was changed: %+v, sent %+v", *req.URL, before)
	}
	if got := req.Header["Prefer"]; len(got) != 2 {
		t.Errorf("Prefer lines are now %q, sent as two lines", got)
	}
	if loc := res.header.Get("Location"); !strings.Contains(loc, "/beta/applications/"+app+"/connectorGroup/members/") {
		t.Errorf("Location %q lost the /beta the request came under", loc)
	}
	entries := h.journal("")
	if len(entries) != 1 {
		t.Fatalf("%d journal entries, want 1", len(entries))
	}
	if e := entries[0]; e.Path != "/beta/applications/"+app+"/connectorGroup/members/$ref" || e.Headers["Prefer"] != "odata.maxpagesize=5, return=representation" {
		t.Errorf("journal path %q, Prefer %q", e.Path, e.Headers["Prefer"])
	}
}

// listRecorder is a server interface that records what ListGroupMembers
// was called with; any other method would panic (its embedded interface is nil).
type listRecorder struct {
	echoapi.ServerInterface
	group  generated.ConnectorGroupID
	params generated.ListGroupMembersParams
	head   generated.HeadGroupMembersParams
}

func (r *listRecorder) ListGroupMembers(_ echo.Context, group generated.ConnectorGroupID, params generated.ListGroupMembersParams) error {
	r.group, r.params = group, params
	return nil
}

func (r *listRecorder) HeadGroupMembers(_ echo.Context, group generated.ConnectorGroupID, params generated.HeadGroupMembersParams) error {
	r.group, r.head = group, params
	return nil
}

type pathParams map[string]string

func (p pathParams) PathParam(name string) string { return p[name] }

// TestHandlersGetWhatTheCheckParsed: the generated check parses every
// parameter once, into the generated types, and the generated Handlers hand
// exactly that to the server interface (a HEAD gets its GET's parse).
func TestHandlersGetWhatTheCheckParsed(t *testing.T) {
	group := uuid.New()
	ops := map[string]reqcheck.Operation{}
	for _, op := range validation.Operations() {
		ops[op.ID] = op
	}
	for _, id := range []string{"listGroupMembers", "headGroupMembers"} {
		t.Run(id, func(t *testing.T) {
			in := reqcheck.Input{
				Path:   pathParams{"connectorGroupId": strings.ToUpper(group.String())},
				Query:  url.Values{"$top": {"7"}, "$skiptoken": {"abc"}},
				Header: http.Header{"Client-Request-Id": {"caller-7, sdk-1"}},
			}
			var vs reqcheck.Violations
			checked := ops[id].Check(&in, &vs)
			if vs.Len() != 0 {
				t.Fatalf("violations: %v", vs.List())
			}
			rec := &listRecorder{}
			if err := validation.Handlers(rec)[id](nil, checked.Params); err != nil {
				t.Fatal(err)
			}
			params := rec.params
			if id == "headGroupMembers" {
				params = generated.ListGroupMembersParams(rec.head)
			}
			if rec.group != group {
				t.Errorf("group %s, want %s", rec.group, group)
			}
			if params.Top == nil || *params.Top != 7 || params.Skiptoken == nil || *params.Skiptoken != "abc" {
				t.Errorf("$top %v, $skiptoken %v", params.Top, params.Skiptoken)
			}
			if params.ClientRequestID == nil || strings.Join(*params.ClientRequestID, "|") != "caller-7|sdk-1" {
				t.Errorf("client-request-id %v, want the list's two items", params.ClientRequestID)
			}
		})
	}
}
