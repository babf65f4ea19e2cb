package server_test

import (
	"encoding/json"
	"github.com/connector-group/members-api/openapi"
	"github.com/getkin/kin-openapi/openapi3"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

func TestAddMinimal(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, prefer := range []string{"", "return=minimal"} {
		var extra []string
		if prefer != "" {
			extra = []string{"Prefer", prefer}
		}
		res := h.add(testApp, validBody, extra...)
		if res.status != http.StatusNoContent {
			t.Fatalf("Prefer %q: status %d, want 204\n%s", prefer, res.status, res.body)
		}
		if len(res.body) != 0 {
			t.Errorf("204 with a body: %s", res.body)
		}
		loc := res.header.Get("Location")
		prefix := "http://127.0.0.1:8080" + listPath(testApp) + "/"
		if !strings.HasPrefix(loc, prefix) || !guidPattern.MatchString(strings.TrimPrefix(loc, prefix)) {
			t.Errorf("Location = %q, want %s<GUID>", loc, prefix)
		}
		if got := res.header.Get("OData-EntityId"); got != loc {
			t.Errorf("OData-EntityId = %q, want the Location %q", got, loc)
		}
		if got := res.header.Get("Vary"); got != "Prefer" {
			t.Errorf("Vary = %q, want Prefer", got)
		}
		if got := res.header.Get("Preference-Applied"); got != "" {
			t.Errorf("Preference-Applied = %q on a 204", got)
		}
		// The Location names the stored member.
		get := h.do(http.MethodGet, strings.TrimPrefix(loc, "http://127.0.0.1:8080"), authed(), nil)
		if get.status != http.StatusOK {
			t.Fatalf("GET Location: %d %s", get.status, get.body)
		}
		var m generated.Connector
		if err := json.Unmarshal(get.body, &m); err != nil {
			t.Fatal(err)
		}
		if m.ExternalIP != "203.0.113.7" || m.MachineName != "connector-eu-01" || m.Status != generated.ConnectorStatusActive ||
			m.ID == nil || !strings.HasSuffix(loc, m.ID.String()) || m.OdataType == nil {
			t.Errorf("stored %+v, want the posted connector with the Location's id", m)
		}
	}
}

func TestAddRepresentation(t *testing.T) {
	h := newHarness(t, server.Config{})
	id := "72bb7735-7735-72bb-3577-bb723577bb72" // the page's own id: a GUID, though not RFC 4122
	body := `{"@odata.type":"#microsoft.graph.connector","id":"` + id + `","externalIp":"2001:db8::7","machineName":"eu-02","status":"inactive"}`
	res := h.add(testApp, body, "Prefer", "return=representation", "client-request-id", "abc-1")
	if res.status != http.StatusCreated {
		t.Fatalf("status %d, want 201\n%s", res.status, res.body)
	}
	for k, want := range map[string]string{
		"Location":           "http://127.0.0.1:8080" + memberPath(testApp, id),
		"OData-EntityId":     "http://127.0.0.1:8080" + memberPath(testApp, id),
		"Preference-Applied": "return=representation",
		"Vary":               "Prefer",
		"Content-Type":       "application/json",
		"client-request-id":  "abc-1",
	} {
		if got := res.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"@odata.type": "#microsoft.graph.connector", "id": id, "externalIp": "2001:db8::7",
		"machineName": "eu-02", "status": "inactive"}
	if len(got) != len(want) {
		t.Errorf("body %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("body[%q] = %v, want %v", k, got[k], v)
		}
	}
}

func TestAcceptedSpellings(t *testing.T) {
	h := newHarness(t, server.Config{})
	cases := []struct {
		name, target, contentType, body string
	}{
		{"%24ref", "/applications/" + testApp + "/connectorGroup/members/%24ref", "application/json", validBody},
		{"%24REF lower-case escape", "/applications/" + testApp + "/connectorGroup/members/%24ref", "application/json", validBody},
		{"charset parameter", addPath(testApp), "application/json; charset=utf-8", validBody},
		{"255-character name", addPath(testApp), "application/json", withField("machineName", `"`+strings.Repeat("n", 255)+`"`)},
		{"1-character name", addPath(testApp), "application/json", withField("machineName", `"n"`)},
		{"IPv6", addPath(testApp), "application/json", withField("externalIp", `"::1"`)},
		{"IPv4-mapped IPv6", addPath(testApp), "application/json", withField("externalIp", `"::ffff:192.0.2.1"`)},
		{"upper-case GUID app", addPath(strings.ToUpper(uuid.NewString())), "application/json", validBody},
	}
	for _, tc := range cases {
		res := h.do(http.MethodPost, tc.target, authed("Content-Type", tc.contentType), strings.NewReader(tc.body))
		if res.status != http.StatusNoContent {
			t.Errorf("%s: status %d, want 204\n%s", tc.name, res.status, res.body)
		}
	}
	// The DELETE's $ref may be escaped too.
	id := h.addMember(testApp, "to-remove")
	res := h.do(http.MethodDelete, memberPath(testApp, id)+"/%24ref", authed(), nil)
	if res.status != http.StatusNoContent {
		t.Errorf("DELETE …/%%24ref: status %d\n%s", res.status, res.body)
	}
}

func TestDuplicateLeavesStoreUnchanged(t *testing.T) {
	h := newHarness(t, server.Config{})
	id := uuid.NewString()
	first := `{"id":"` + id + `","externalIp":"192.0.2.1","machineName":"first","status":"active"}`
	second := `{"id":"` + id + `","externalIp":"192.0.2.2","machineName":"second","status":"inactive"}`
	if res := h.add(testApp, first); res.status != http.StatusNoContent {
		t.Fatalf("first add: %d %s", res.status, res.body)
	}
	res := h.add(testApp, second, "client-request-id", "dup-1")
	assertError(t, res, 400, "Request_BadRequest", "dup-1")
	env := decodeError(t, res.body)
	const want = "One or more added object references already exist for the following modified properties: 'members'."
	if env.Error.Message != want {
		t.Errorf("message = %q, want %q", env.Error.Message, want)
	}
	page := h.list(listPath(testApp))
	if len(page.Value) != 1 || page.Value[0].MachineName != "first" || page.Value[0].ExternalIP != "192.0.2.1" {
		t.Errorf("after the duplicate the group is %+v, want only the first", page.Value)
	}
	// The same id in another application's group is a different member.
	if res := h.add(uuid.NewString(), second); res.status != http.StatusNoContent {
		t.Errorf("same id, other app: %d %s", res.status, res.body)
	}
}

func TestGetAndRemove(t *testing.T) {
	h := newHarness(t, server.Config{})
	id := h.addMember(testApp, "m1")
	if res := h.do(http.MethodGet, memberPath(testApp, id), authed(), nil); res.status != http.StatusOK {
		t.Fatalf("GET: %d %s", res.status, res.body)
	}
	// Another application does not see it: every GUID names its own empty group.
	if res := h.do(http.MethodGet, memberPath(uuid.NewString(), id), authed(), nil); res.status != http.StatusNotFound {
		t.Errorf("GET from another app: %d, want 404", res.status)
	}
	res := h.do(http.MethodDelete, memberPath(testApp, id)+"/$ref", authed("client-request-id", "rm-1"), nil)
	if res.status != http.StatusNoContent || len(res.body) != 0 || res.header.Get("client-request-id") != "rm-1" {
		t.Fatalf("DELETE: %d %q %v", res.status, res.body, res.header)
	}
	res = h.do(http.MethodGet, memberPath(testApp, id), authed(), nil)
	assertError(t, res, 404, "Request_ResourceNotFound", "")
	res = h.do(http.MethodDelete, memberPath(testApp, id)+"/$ref", authed(), nil)
	assertError(t, res, 404, "Request_ResourceNotFound", "")
	if page := h.list(listPath(testApp)); len(page.Value) != 0 {
		t.Errorf("after removal the group is %+v", page.Value)
	}
}

func TestListPaging(t *testing.T) {
	h := newHarness(t, server.Config{})
	if page := h.list(listPath(testApp)); page.Value == nil || len(page.Value) != 0 || page.OdataNextLink != nil {
		t.Errorf("an empty group lists as %+v, want value: [] and no nextLink", page)
	}
	var names []string
	ids := map[string]string{}
	for i := range 7 {
		name := "m" + string(rune('0'+i))
		ids[name] = h.addMember(testApp, name)
		names = append(names, name)
	}
	for _, top := range []int{0, 1, 2, 3, 6, 7, 999} {
		if got := h.listAll(testApp, top); !slices.Equal(got, names) {
			t.Errorf("$top=%d: walked %v, want %v", top, got, names)
		}
	}

	// The nextLink keeps $top and is absolute.
	first := h.list(listPath(testApp) + "?$top=3")
	if first.OdataNextLink == nil || !strings.HasPrefix(*first.OdataNextLink, "http://127.0.0.1:8080"+listPath(testApp)+"?$top=3&$skiptoken=") {
		t.Fatalf("nextLink = %v", first.OdataNextLink)
	}
	// Between pages: remove the last member seen and the next one due, add one.
	for _, name := range []string{"m2", "m3"} {
		if res := h.do(http.MethodDelete, memberPath(testApp, ids[name])+"/$ref", authed(), nil); res.status != 204 {
			t.Fatalf("remove %s: %d", name, res.status)
		}
	}
	h.addMember(testApp, "m7")
	rest := h.walkFrom(*first.OdataNextLink)
	if want := []string{"m4", "m5", "m6", "m7"}; !slices.Equal(rest, want) {
		t.Errorf("after removals the walk resumed with %v, want %v", rest, want)
	}
	// The last page has no nextLink even when it is full.
	if page := h.list(listPath(testApp) + "?$top=6"); page.OdataNextLink != nil && len(page.Value) != 6 {
		t.Errorf("page = %+v", page)
	}
	last := h.list(listPath(testApp) + "?$top=6")
	if last.OdataNextLink != nil {
		t.Errorf("a group of 6 listed with $top=6 has a nextLink %q", *last.OdataNextLink)
	}
}

func TestMetaEndpoints(t *testing.T) {
	h := newHarness(t, server.Config{Token: "only-this"})
	for _, tc := range []struct{ target, contentType, contains string }{
		{"/healthz", "application/json", `"status":"ok"`},
		{"/openapi.yaml", "application/yaml", "openapi: 3.0.3"},
		{"/openapi.json", "application/json", `"openapi":"3.0.3"`},
	} {
		res := h.do(http.MethodGet, tc.target, nil, nil) // no token needed
		if res.status != http.StatusOK {
			t.Errorf("%s: %d %s", tc.target, res.status, res.body)
			continue
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("%s: Content-Type %q, want %s", tc.target, ct, tc.contentType)
		}
		if !strings.Contains(string(res.body), tc.contains) {
			t.Errorf("%s: body lacks %q", tc.target, tc.contains)
		}
	}
}

func TestAccessLog(t *testing.T) {
	h := newHarness(t, server.Config{Token: "hunter2"})
	res := h.do(http.MethodGet, listPath(testApp)+"?$top=5", http.Header{"Authorization": {"Bearer hunter2"}}, nil)
	logs := h.logs.String()
	rid := res.header.Get("request-id")
	for _, want := range []string{"method=GET", "path=" + listPath(testApp), "status=200", "duration=", "request_id=" + rid} {
		if !strings.Contains(logs, want) {
			t.Errorf("the access log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "hunter2") {
		t.Errorf("the token is in the log:\n%s", logs)
	}
	if n := strings.Count(logs, "msg=request"); n != 1 {
		t.Errorf("%d access log lines for one request:\n%s", n, logs)
	}
}

// TestLocationScheme: the URLs the server hands out (Location, OData-EntityId,
// @odata.nextLink) use the scheme the client reached it by, taking a proxy's
// X-Forwarded-* headers only from a private or loopback peer, as Echo does.
func TestLocationScheme(t *testing.T) {
	h := newHarness(t, server.Config{})
	h.addMember(testApp, "a")
	h.addMember(testApp, "b")
	tests := []struct {
		name   string
		target string // host and scheme of the request
		peer   string
		header []string
		want   string
	}{
		{"plain", "http://127.0.0.1:8080", "192.0.2.1:1234", nil, "http"},
		{"TLS", "https://127.0.0.1:8080", "192.0.2.1:1234", nil, "https"},
		{"proxy on loopback", "http://127.0.0.1:8080", "127.0.0.1:1234", []string{"X-Forwarded-Proto", "https"}, "https"},
		{"proxy on a private address", "http://127.0.0.1:8080", "10.1.2.3:1234", []string{"X-Forwarded-Ssl", "on"}, "https"},
		{"X-Url-Scheme from loopback", "http://127.0.0.1:8080", "[::1]:1234", []string{"X-Url-Scheme", "https"}, "https"},
		{"forwarded header from a public peer is ignored", "http://127.0.0.1:8080", "192.0.2.1:1234", []string{"X-Forwarded-Proto", "https"}, "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			send := func(method, path, body string, extra ...string) *httptest.ResponseRecorder {
				req := newRequest(method, tt.target+path, strings.NewReader(body))
				req.RemoteAddr = tt.peer
				req.Header = jsonHeader(append(extra, tt.header...)...)
				rec := httptest.NewRecorder()
				h.handler.ServeHTTP(rec, req)
				specChecker(t).MustCheck(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
				return rec
			}
			rec := send(http.MethodPost, addPath(testApp), validBody)
			want := tt.want + "://127.0.0.1:8080" + listPath(testApp) + "/"
			if loc := rec.Header().Get("Location"); rec.Code != http.StatusNoContent || !strings.HasPrefix(loc, want) {
				t.Errorf("add: %d, Location %q, want it to start %q", rec.Code, loc, want)
			}
			rec = send(http.MethodGet, listPath(testApp)+"?$top=1", "")
			var page generated.ConnectorCollection
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.OdataNextLink == nil {
				t.Fatalf("list: %d %s", rec.Code, rec.Body)
			}
			if next := *page.OdataNextLink; !strings.HasPrefix(next, tt.want+"://127.0.0.1:8080"+listPath(testApp)+"?") {
				t.Errorf("@odata.nextLink %q, want scheme %s", next, tt.want)
			}
		})
	}
}

// TestRequestBodyGivenBack: once a request is answered, net/http finds its
// own body on it again, read to the end, so it has nothing to discard (it
// would otherwise copy what is left of a body it does not know to io.Discard,
// on every request).
func TestRequestBodyGivenBack(t *testing.T) {
	h := newHarness(t, server.Config{})
	for name, body := range map[string]string{
		"valid (fast path)":            validBody,
		"invalid (fast path)":          pageExample,
		"valid, escaped (kin-openapi)": `{"externalIp":"203.0.113.7","machineName":"conn\u0065ctor","status":"active"}`,
		"malformed":                    `{"externalIp":`,
	} {
		req := newRequest(http.MethodPost, addPath(testApp), strings.NewReader(body))
		req.Header = jsonHeader()
		original := req.Body
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		specChecker(t).MustCheck(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
		if req.Body != original {
			t.Errorf("%s: answered %d, and the request's body is %T, not the one it came with", name, rec.Code, req.Body)
		}
	}
}

// TestOpenAPIJSONIsTheDocument: /openapi.json is openapi/connector.yaml as
// JSON, not oapi-codegen's embedded copy, whose operationIds are
// capitalised: loaded by kin-openapi, both name the same operations.
func TestOpenAPIJSONIsTheDocument(t *testing.T) {
	h := newHarness(t, server.Config{})
	res := h.do(http.MethodGet, "/openapi.json", nil, nil)
	fromJSON, err := openapi3.NewLoader().LoadFromData(res.body)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := openapi3.NewLoader().LoadFromData(openapi.YAML)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(doc *openapi3.T) []string {
		var out []string
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				out = append(out, method+" "+path+" "+op.OperationID)
			}
		}
		slices.Sort(out)
		return out
	}
	if got, want := ids(fromJSON), ids(fromYAML); !slices.Equal(got, want) || !slices.Contains(got, "POST /applications/{applicationsId}/connectorGroup/members/$ref addConnectorGroupMember") {
		t.Errorf("/openapi.json has the operations\n%q\nthe document\n%q", got, want)
	}
	if fromJSON.Info.Version != fromYAML.Info.Version {
		t.Errorf("version %s, the document's %s", fromJSON.Info.Version, fromYAML.Info.Version)
	}
}
