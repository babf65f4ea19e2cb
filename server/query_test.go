package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// q is a query string of OData options, escaped as a client would.
func q(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return "?" + v.Encode()
}

// addNamed adds connectors with these machine names and statuses to app.
func (h *harness) addNamed(app string, named ...string) {
	h.t.Helper()
	for i := 0; i+1 < len(named); i += 2 {
		body := fmt.Sprintf(`{"externalIp":"192.0.2.%d","machineName":%q,"status":%q}`, i/2+1, named[i], named[i+1])
		if res := h.add(app, body); res.status != http.StatusNoContent {
			h.t.Fatalf("adding %s: %d %s", named[i], res.status, res.body)
		}
	}
}

func TestFilterOrderByAndCountPageTogether(t *testing.T) {
	h := newHarness(t, server.Config{})
	h.addNamed(testApp, "eu-3", "active", "us-1", "active", "eu-1", "inactive", "eu-2", "active", "eu-5", "active", "eu-4", "active")

	for _, tc := range []struct {
		name  string
		query string
		want  []string
	}{
		{"filter, in the group's order", q("$filter", "startswith(machineName,'eu-') and status eq 'active'", "$top", "2"),
			[]string{"eu-3", "eu-2", "eu-5", "eu-4"}},
		{"orderby", q("$orderby", "machineName desc", "$top", "4"), []string{"us-1", "eu-5", "eu-4", "eu-3", "eu-2", "eu-1"}},
		{"filter and orderby, pages of one", q("$filter", "status ne 'inactive' and not (machineName eq 'us-1')", "$orderby", "machineName", "$top", "1"),
			[]string{"eu-2", "eu-3", "eu-4", "eu-5"}},
		{"two keys", q("$orderby", "status desc,machineName asc", "$top", "5"), []string{"eu-1", "eu-2", "eu-3", "eu-4", "eu-5", "us-1"}},
		{"in", q("$filter", "machineName in ('eu-1','us-1','nobody')"), []string{"us-1", "eu-1"}},
		{"nothing kept", q("$filter", "machineName eq 'nobody'", "$top", "1"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.walkFrom(listPath(testApp) + tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
			}
		})
	}

	// @odata.count is the whole collection's after $filter, on every page;
	// /$count says the same as text.
	page := h.list(listPath(testApp) + q("$filter", "status eq 'active'", "$count", "true", "$top", "2"))
	if page.OdataCount == nil || *page.OdataCount != 5 || len(page.Value) != 2 {
		t.Fatalf("first page: count %v, %d items", page.OdataCount, len(page.Value))
	}
	second := h.list(*page.OdataNextLink)
	if second.OdataCount == nil || *second.OdataCount != 5 || second.Value[0].MachineName != "eu-2" {
		t.Errorf("second page: count %v, %+v", second.OdataCount, second.Value)
	}
	res := h.do(http.MethodGet, listPath(testApp)+"/$count"+q("$filter", "status eq 'active'"), authed(), nil)
	if res.status != http.StatusOK || string(res.body) != "5" || res.header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Errorf("/$count: %d %q %q", res.status, res.header.Get("Content-Type"), res.body)
	}
	if res := h.do(http.MethodGet, listPath(testApp)+"/%24count", authed(), nil); string(res.body) != "6" {
		t.Errorf("/%%24count: %d %s", res.status, res.body)
	}
	if res := h.do(http.MethodHead, listPath(testApp)+"/$count", authed(), nil); res.status != http.StatusOK || res.header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Errorf("HEAD /$count: %d %v", res.status, res.header)
	}
	if page := h.list(listPath(testApp) + q("$count", "false")); page.OdataCount != nil {
		t.Errorf("$count=false answered a count: %d", *page.OdataCount)
	}
}

func TestSkipTokenIsBoundToItsQuery(t *testing.T) {
	h := newHarness(t, server.Config{})
	h.addNamed(testApp, "a", "active", "b", "active", "c", "active")
	page := h.list(listPath(testApp) + q("$filter", "status eq 'active'", "$top", "1"))
	link, _ := url.Parse(*page.OdataNextLink)
	token := link.Query().Get("$skiptoken")
	for _, other := range []string{
		q("$skiptoken", token),
		q("$skiptoken", token, "$filter", "status ne 'inactive'"),
		q("$skiptoken", token, "$filter", "status eq 'active'", "$orderby", "machineName"),
	} {
		res := h.do(http.MethodGet, listPath(testApp)+other, authed(), nil)
		assertRefused(t, res, http.StatusBadRequest, "Request_BadRequest", "$skiptoken")
	}
	// The same query resumes, whatever $select or $top it asks this time.
	res := h.do(http.MethodGet, listPath(testApp)+q("$skiptoken", token, "$filter", "status eq 'active'", "$select", "machineName", "$top", "5"), authed(), nil)
	if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != `{"value":[{"machineName":"b"},{"machineName":"c"}]}` {
		t.Errorf("resumed: %d %s", res.status, res.body)
	}
}

func TestSelectAnswersOnlyTheNamedProperties(t *testing.T) {
	h := newHarness(t, server.Config{})
	id := h.addMember(testApp, "eu-1")
	for sel, want := range map[string]string{
		"machineName":           `{"value":[{"machineName":"eu-1"}]}`,
		"status, id":            `{"value":[{"id":"` + id + `","status":"active"}]}`,
		"*":                     `{"value":[{"externalIp":"192.0.2.1","id":"` + id + `","machineName":"eu-1","status":"active"}]}`,
		"machineName,id,status": `{"value":[{"id":"` + id + `","machineName":"eu-1","status":"active"}]}`,
	} {
		res := h.do(http.MethodGet, listPath(testApp)+q("$select", sel), authed(), nil)
		if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != want {
			t.Errorf("$select=%s: %d %s, want %s", sel, res.status, res.body, want)
		}
	}
	res := h.do(http.MethodGet, groupsPath()+q("$select", "name,isDefault", "$filter", "isDefault eq true"), authed(), nil)
	if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != `{"value":[{"isDefault":true,"name":"Default"}]}` {
		t.Errorf("groups: %d %s", res.status, res.body)
	}
}

// TestEveryCollectionAnswersTheOptions: each collection of the spec takes
// $select, $filter, $orderby and $count, and has its /$count, with the
// names of its own item's schema.
func TestEveryCollectionAnswersTheOptions(t *testing.T) {
	h := newHarness(t, server.Config{})
	g := h.createGroup("eu")
	connector := uuid.NewString()
	res := h.do(http.MethodPost, groupEntity(g)+"/members/$ref", jsonHeader(), strings.NewReader(
		`{"id":"`+connector+`","externalIp":"192.0.2.1","machineName":"eu-1","status":"active"}`))
	if res.status != http.StatusNoContent {
		t.Fatalf("add: %d %s", res.status, res.body)
	}
	app := uuid.NewString()
	res = h.do(http.MethodPut, "/applications/"+app+"/connectorGroup/$ref", jsonHeader(), strings.NewReader(
		`{"@odata.id":"https://graph.microsoft.com/beta`+groupEntity(g)+`"}`))
	if res.status != http.StatusNoContent {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	for _, tc := range []struct {
		collection, filter, sel, want string
		others                        string // what /$count says of the items the filter does not keep
	}{
		{listPath(app), "machineName eq 'eu-1'", "machineName", `{"@odata.count":1,"value":[{"machineName":"eu-1"}]}`, "0"},
		{groupEntity(g) + "/members", "status eq 'active'", "status", `{"@odata.count":1,"value":[{"status":"active"}]}`, "0"},
		{profile + "/connectors", "id eq " + connector, "machineName", `{"@odata.count":1,"value":[{"machineName":"eu-1"}]}`, "0"},
		{groupsPath(), "name eq 'eu' and isDefault eq false", "name", `{"@odata.count":1,"value":[{"name":"eu"}]}`, "1"}, // the default group
		{groupEntity(g) + "/applications", "id eq '" + app + "'", "id", `{"@odata.count":1,"value":[{"id":"` + app + `"}]}`, "0"},
		{profile + "/connectors/" + connector + "/memberOf", "name eq 'eu'", "name,isDefault", `{"@odata.count":1,"value":[{"isDefault":false,"name":"eu"}]}`, "0"},
	} {
		res := h.do(http.MethodGet, tc.collection+q("$filter", tc.filter, "$select", tc.sel, "$count", "true", "$orderby", "id desc"), authed(), nil)
		if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != tc.want {
			t.Errorf("%s: %d %s, want %s", tc.collection, res.status, res.body, tc.want)
		}
		res = h.do(http.MethodGet, tc.collection+"/$count"+q("$filter", "not ("+tc.filter+")"), authed(), nil)
		if res.status != http.StatusOK || string(res.body) != tc.others {
			t.Errorf("%s/$count: %d %s", tc.collection, res.status, res.body)
		}
		res = h.do(http.MethodGet, tc.collection+q("$select", "nope"), authed(), nil)
		assertRefused(t, res, http.StatusBadRequest, "Request_BadRequest", "$select")
		if e := decodeError(t, res.body); !strings.HasPrefix(e.Error.Message, "Could not find a property named 'nope' on type 'microsoft.graph.") {
			t.Errorf("%s: %s", tc.collection, e.Error.Message)
		}
	}
	// A count path answers 404 where its collection does.
	res = h.do(http.MethodGet, groupEntity(uuid.NewString())+"/members/$count", authed(), nil)
	assertRefused(t, res, http.StatusNotFound, "Request_ResourceNotFound", "connectorGroupId")
	res = h.do(http.MethodGet, profile+"/connectors/"+uuid.NewString()+"/memberOf/$count", authed(), nil)
	assertRefused(t, res, http.StatusNotFound, "Request_ResourceNotFound", "connectorId")
}

// TestOrderByPagesAreStable: paging a sorted listing with ties returns each
// item once, ties in the listing's order.
func TestOrderByPagesAreStable(t *testing.T) {
	h := newHarness(t, server.Config{})
	var named []string
	var want []string
	for i := range 25 {
		status := []string{"active", "inactive"}[i%2]
		named = append(named, fmt.Sprintf("m%02d", i), status)
	}
	for i := 1; i < 25; i += 2 {
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	for i := 0; i < 25; i += 2 {
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	h.addNamed(testApp, named...)
	for _, top := range []string{"1", "3", "7", "999"} {
		got := h.walkFrom(listPath(testApp) + q("$orderby", "status desc", "$top", top))
		if !slices.Equal(got, want) {
			t.Errorf("$top=%s: %q", top, got)
		}
	}
	// The collection as JSON keeps the generated model's shape.
	var page generated.ConnectorCollection
	res := h.do(http.MethodGet, listPath(testApp)+q("$orderby", "machineName desc", "$top", "1"), authed(), nil)
	if err := json.Unmarshal(res.body, &page); err != nil || page.Value[0].MachineName != "m24" || page.OdataNextLink == nil {
		t.Errorf("%s (%v)", res.body, err)
	}
}

// assertRefused checks the error envelope of res and that it names target.
func assertRefused(t *testing.T, res result, status int, code, target string) {
	t.Helper()
	assertError(t, res, status, code, "")
	if got := decodeError(t, res.body).Error.Target; got == nil || *got != target {
		t.Errorf("error.target = %v, want %s", got, target)
	}
}

// TestSelectOnAnEntity: a read takes $select too, as "read it back with
// $select" does; a name the schema lacks is a 400 before any 404.
func TestSelectOnAnEntity(t *testing.T) {
	h := newHarness(t, server.Config{})
	g := h.createGroup("eu")
	id := h.addMember(testApp, "eu-1")
	for target, want := range map[string]string{
		groupEntity(g) + q("$select", "name,isDefault"):                     `{"isDefault":false,"name":"eu"}`,
		"/applications/" + testApp + "/connectorGroup" + q("$select", "id"): `{"id":"` + testApp + `"}`,
		profile + "/connectors/" + id + q("$select", "machineName"):         `{"machineName":"eu-1"}`,
		memberPath(testApp, id) + q("$select", "status,externalIp"):         `{"externalIp":"192.0.2.1","status":"active"}`,
		groupEntity(testApp) + "/members/" + id + q("$select", "id"):        `{"id":"` + id + `"}`,
	} {
		res := h.do(http.MethodGet, target, authed(), nil)
		if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != want {
			t.Errorf("%s: %d %s, want %s", target, res.status, res.body, want)
		}
	}
	res := h.do(http.MethodGet, groupEntity(uuid.NewString())+q("$select", "displayName"), authed(), nil)
	assertRefused(t, res, http.StatusBadRequest, "Request_BadRequest", "$select")
}
