package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// errorCase is one request the server must refuse, and how.
type errorCase struct {
	name    string
	method  string
	target  string
	header  http.Header
	body    string
	status  int
	code    string
	targets []string          // the details' targets, in order; nil when there are no details
	headers map[string]string // response headers that must be present, with a value prefix
	message string            // error.message exactly, when set
}

func post(name, body string, targets ...string) errorCase {
	return errorCase{name: name, method: http.MethodPost, target: addPath(testApp), header: jsonHeader(),
		body: body, status: 400, code: "Request_BadRequest", targets: targets}
}

// withField is validBody with one property replaced (or removed, when raw is "").
func withField(name, raw string) string {
	fields := map[string]string{"externalIp": `"203.0.113.7"`, "machineName": `"connector-eu-01"`, "status": `"active"`}
	fields[name] = raw
	var parts []string
	for _, k := range []string{"externalIp", "machineName", "status", name} {
		if v, ok := fields[k]; ok && v != "" {
			parts = append(parts, `"`+k+`":`+v)
			delete(fields, k)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestErrorTable(t *testing.T) {
	runErrorTable(t, newHarness(t, server.Config{}))
}

func errorCases() []errorCase {
	name256 := strings.Repeat("n", 256)
	return []errorCase{
		// The connector's rules.
		post("page example with placeholder values", pageExample, "/externalIp", "/status"),
		post("missing externalIp", withField("externalIp", ""), "/externalIp"),
		post("missing machineName", withField("machineName", ""), "/machineName"),
		post("missing status", withField("status", ""), "/status"),
		post("all required missing, no form named", `{}`, "", "/externalIp", "/machineName", "/status", "/@odata.id"),
		post("status wrong case", withField("status", `"Active"`), "/status"),
		post("status unknown", withField("status", `"pending"`), "/status"),
		post("status null", withField("status", `null`), "/status"),
		post("status number", withField("status", `1`), "/status"),
		post("machineName number", withField("machineName", `42`), "/machineName"),
		post("externalIp object", withField("externalIp", `{}`), "/externalIp"),
		post("bad IPv4 octet", withField("externalIp", `"256.1.1.1"`), "/externalIp"),
		post("short IPv4", withField("externalIp", `"10.0.0"`), "/externalIp"),
		post("IPv4 with port", withField("externalIp", `"10.0.0.1:80"`), "/externalIp"),
		post("bad IPv6", withField("externalIp", `"2001:db8:::1"`), "/externalIp"),
		post("IPv6 non-hex", withField("externalIp", `"fe80::g"`), "/externalIp"),
		post("hostname as address", withField("externalIp", `"localhost"`), "/externalIp"),
		post("FQDN as address", withField("externalIp", `"connector.example.com"`), "/externalIp"),
		post("empty address", withField("externalIp", `""`), "/externalIp"),
		post("empty machineName", withField("machineName", `""`), "/machineName"),
		post("256-character machineName", withField("machineName", `"`+name256+`"`), "/machineName"),
		post("non-GUID id", withField("id", `"12345"`), "/id"),
		post("braced GUID id", withField("id", `"{72bb7735-7735-42bb-b577-bb723577bb72}"`), "/id"),
		post("id number", withField("id", `7`), "/id"),
		post("wrong @odata.type", withField("@odata.type", `"#microsoft.graph.user"`), "/@odata.type"),
		post("unknown property", withField("connectorGroup", `"x"`), "/connectorGroup"),
		post("case-folded twin of status", `{"externalIp":"203.0.113.7","machineName":"m","STATUS":"active"}`, "/STATUS", "/status"),
		post("case-folded twin beside status", withField("Status", `"active"`), "/Status"),
		post("unknown property with a control character", "{\"\x7f\":\"\"}", "", "/externalIp", "/machineName", "/status", "/\x7f", "/@odata.id", "/\x7f"),
		post("unknown property with an escaped quote", `{"a\"b":""}`, "", "/a\"b", "/externalIp", "/machineName", "/status", "/@odata.id", "/a\"b"),
		post("malformed JSON", `{"externalIp": "203.0.113.7",`, ""),
		post("trailing garbage", validBody+` x`, ""),
		post("empty body", ``, ""),
		post("JSON array", `[`+validBody+`]`, ""),
		post("JSON string", `"active"`, ""),
		post("JSON null", `null`, ""),
		{name: "non-GUID applicationsId", method: http.MethodPost, target: addPath("not-a-guid"), header: jsonHeader(),
			body: validBody, status: 400, code: "Request_BadRequest", targets: []string{"applicationsId"}},
		{name: "non-GUID connectorId", method: http.MethodGet, target: memberPath(testApp, "42"), header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"connectorId"}},
		{name: "Prefer with 17 preferences", method: http.MethodPost, target: addPath(testApp),
			header: jsonHeader("Prefer", strings.Repeat("a, ", 16)+"return=minimal"),
			body:   validBody, status: 400, code: "Request_BadRequest", targets: []string{"Prefer"}},

		// Content type and size.
		{name: "text/plain", method: http.MethodPost, target: addPath(testApp), header: authed("Content-Type", "text/plain"),
			body: validBody, status: 415, code: "UnsupportedMediaType"},
		{name: "form encoded", method: http.MethodPost, target: addPath(testApp), header: authed("Content-Type", "application/x-www-form-urlencoded"),
			body: "status=active", status: 415, code: "UnsupportedMediaType"},
		{name: "no Content-Type", method: http.MethodPost, target: addPath(testApp), header: authed(),
			body: validBody, status: 415, code: "UnsupportedMediaType"},
		{name: "oversize body", method: http.MethodPost, target: addPath(testApp), header: jsonHeader(),
			body: `{"machineName":"` + strings.Repeat("x", server.DefaultMaxBodyBytes) + `"}`, status: 413, code: "RequestEntityTooLarge"},

		// Authentication.
		{name: "no Authorization", method: http.MethodPost, target: addPath(testApp), header: http.Header{"Content-Type": {"application/json"}},
			body: validBody, status: 401, code: "InvalidAuthenticationToken", headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "empty Authorization", method: http.MethodGet, target: listPath(testApp), header: http.Header{"Authorization": {""}},
			status: 401, code: "InvalidAuthenticationToken", headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "Bearer without token", method: http.MethodGet, target: listPath(testApp), header: http.Header{"Authorization": {"Bearer "}},
			status: 401, code: "InvalidAuthenticationToken", headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "Basic credential", method: http.MethodGet, target: listPath(testApp), header: http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}},
			status: 401, code: "InvalidAuthenticationToken", headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "token without scheme", method: http.MethodGet, target: listPath(testApp), header: http.Header{"Authorization": {"test-token"}},
			status: 401, code: "InvalidAuthenticationToken", headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "unauthenticated bad request is 401 first", method: http.MethodPost, target: addPath("nope"), header: http.Header{"Content-Type": {"text/plain"}},
			body: "x", status: 401, code: "InvalidAuthenticationToken", headers: map[string]string{"WWW-Authenticate": "Bearer"}},

		// Query parameters.
		{name: "$top zero", method: http.MethodGet, target: listPath(testApp) + "?$top=0", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"$top"}},
		{name: "$top 1000", method: http.MethodGet, target: listPath(testApp) + "?$top=1000", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"$top"}},
		{name: "$top negative", method: http.MethodGet, target: listPath(testApp) + "?$top=-1", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"$top"}},
		{name: "$top not a number", method: http.MethodGet, target: listPath(testApp) + "?$top=ten", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"$top"}},
		{name: "$skiptoken forged", method: http.MethodGet, target: listPath(testApp) + "?$skiptoken=abc", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"$skiptoken"}},
		{name: "$skiptoken empty", method: http.MethodGet, target: listPath(testApp) + "?$skiptoken=", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"$skiptoken"}},
		{name: "several parameters wrong", method: http.MethodGet, target: listPath("x") + "?$top=0&$skiptoken=", header: authed(),
			status: 400, code: "Request_BadRequest", targets: []string{"applicationsId", "$top", "$skiptoken"}},

		// Not found and not allowed.
		{name: "no such member", method: http.MethodGet, target: memberPath(testApp, uuid.NewString()), header: authed(),
			status: 404, code: "Request_ResourceNotFound"},
		{name: "remove no such member", method: http.MethodDelete, target: memberPath(testApp, uuid.NewString()) + "/$ref", header: authed(),
			status: 404, code: "Request_ResourceNotFound"},
		{name: "no such route", method: http.MethodGet, target: "/applications", header: authed(),
			status: 400, code: "BadRequest", message: "Resource not found for the segment 'applications'."},
		{name: "no such segment", method: http.MethodGet, target: listPath(testApp) + "/" + uuid.NewString() + "/extra", header: authed(),
			status: 400, code: "BadRequest", message: "Resource not found for the segment 'extra'."},
		{name: "no such segment, escaped", method: http.MethodGet, target: "/applications/" + testApp + "/connectorGroup/m%C3%A9mbers",
			status: 400, code: "BadRequest", message: "Resource not found for the segment 'mémbers'."},
		{name: "no such route, no token", method: http.MethodGet, target: "/me",
			status: 400, code: "BadRequest", message: "Resource not found for the segment 'me'."},
		{name: "PUT on the collection", method: http.MethodPut, target: listPath(testApp), header: jsonHeader(), body: validBody,
			status: 405, code: "MethodNotAllowed", headers: map[string]string{"Allow": "GET"}},
		{name: "DELETE on the add path", method: http.MethodDelete, target: addPath(testApp), header: authed(),
			status: 405, code: "MethodNotAllowed", headers: map[string]string{"Allow": "POST"}},
		{name: "GET on $ref is not a member named $ref", method: http.MethodGet, target: addPath(testApp), header: authed(),
			status: 405, code: "MethodNotAllowed", headers: map[string]string{"Allow": "POST"}},
		{name: "empty applicationsId segment", method: http.MethodGet, target: listPath(""), header: authed(),
			status: 400, code: "BadRequest", message: "Resource not found for the segment ''."},
		{name: "OPTIONS", method: http.MethodOptions, target: listPath(testApp),
			status: 405, code: "MethodNotAllowed", headers: map[string]string{"Allow": "GET"}},
	}
}

func runErrorTable(t *testing.T, h *harness) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header.Clone()
			if header == nil {
				header = http.Header{}
			}
			// A client-request-id is a list: its first item is echoed.
			cid := "case-" + strings.ReplaceAll(tc.name, ",", "")
			header.Set("client-request-id", cid)
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res := h.do(tc.method, tc.target, header, body)
			assertError(t, res, tc.status, tc.code, cid)
			env := decodeError(t, res.body)
			if got := targets(env); !slices.Equal(got, tc.targets) {
				t.Errorf("details targets = %q, want %q\n%s", got, tc.targets, res.body)
			}
			if len(tc.targets) > 0 {
				first := (*env.Error.Details)[0]
				if env.Error.Message != first.Message {
					t.Errorf("error.message = %q, want the first detail's %q", env.Error.Message, first.Message)
				}
			}
			if tc.message != "" && env.Error.Message != tc.message {
				t.Errorf("error.message = %q, want %q", env.Error.Message, tc.message)
			}
			if tc.code == "BadRequest" && env.Error.Target != nil {
				t.Errorf("error.target = %q, want none (as Graph answers an unknown segment)", *env.Error.Target)
			}
			for k, prefix := range tc.headers {
				if got := res.header.Get(k); !strings.HasPrefix(got, prefix) {
					t.Errorf("header %s = %q, want it to start with %q", k, got, prefix)
				}
			}
		})
	}
}

// assertError checks what every error response has in common.
func assertError(t *testing.T, res result, status int, code, clientRequestID string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d\n%s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	env := decodeError(t, res.body)
	if string(env.Error.Code) != code {
		t.Errorf("error.code = %q, want %q", env.Error.Code, code)
	}
	if env.Error.Message == "" {
		t.Error("error.message is empty")
	}
	rid := res.header.Get("request-id")
	if !guidPattern.MatchString(rid) {
		t.Errorf("request-id header = %q, want a GUID", rid)
	}
	if got := env.Error.InnerError.RequestID.String(); got != rid {
		t.Errorf("innerError.request-id = %q, want the header's %q", got, rid)
	}
	if env.Error.InnerError.Date.IsZero() {
		t.Error("innerError.date is missing")
	}
	if clientRequestID != "" {
		if got := res.header.Get("client-request-id"); got != clientRequestID {
			t.Errorf("client-request-id header = %q, want %q echoed", got, clientRequestID)
		}
		if c := env.Error.InnerError.ClientRequestID; c == nil || *c != clientRequestID {
			t.Errorf("innerError.client-request-id = %v, want %q", c, clientRequestID)
		}
	}
	for _, leak := range []string{"Schema:", "\"properties\"", "doesn't match schema"} {
		if strings.Contains(string(res.body), leak) {
			t.Errorf("the error body dumps the schema (%q):\n%s", leak, res.body)
		}
	}
}

func TestValidationMessages(t *testing.T) {
	h := newHarness(t, server.Config{})
	res := h.add(testApp, pageExample)
	env := decodeError(t, res.body)
	want := map[string]string{
		"/status":     `value "String" is not one of ` + statusNames,
		"/externalIp": `value "String" is not a valid ipv4 or ipv6`,
	}
	for _, d := range *env.Error.Details {
		if d.Target == nil || want[*d.Target] != d.Message {
			t.Errorf("detail %v: %q, want %q", d.Target, d.Message, want[deref(d.Target)])
		}
	}
	if env.Error.Target == nil || *env.Error.Target != "/externalIp" {
		t.Errorf("error.target = %v, want /externalIp (the first violation)", env.Error.Target)
	}
}

// deref is *p, or T's zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestWrongToken(t *testing.T) {
	h := newHarness(t, server.Config{Token: "s3cret"})
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"Bearer s3cret", http.StatusOK},
		{"bearer s3cret", http.StatusOK}, // the scheme is case-insensitive (RFC 7235)
		{"Bearer s3cre", http.StatusUnauthorized},
		{"Bearer s3cret2", http.StatusUnauthorized},
		{"Bearer S3CRET", http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
	} {
		res := h.do(http.MethodGet, listPath(testApp), http.Header{"Authorization": {tc.auth}}, nil)
		if res.status != tc.status {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, res.status, tc.status)
		}
		if tc.status == http.StatusUnauthorized {
			assertError(t, res, 401, "InvalidAuthenticationToken", "")
		}
	}
	if strings.Contains(h.logs.String(), "s3cret") {
		t.Errorf("the token appears in the log:\n%s", h.logs.String())
	}
}

func TestChunkedOversizeBody(t *testing.T) {
	h := newHarness(t, server.Config{MaxBodyBytes: 64})
	// An io.Reader without a length: the request is sent with no Content-Length.
	body := io.MultiReader(strings.NewReader(`{"machineName":"`), strings.NewReader(strings.Repeat("x", 100)), strings.NewReader(`"}`))
	res := h.do(http.MethodPost, addPath(testApp), jsonHeader(), body)
	assertError(t, res, 413, "RequestEntityTooLarge", "")
	if page := h.list(listPath(testApp)); len(page.Value) != 0 {
		t.Errorf("an oversize body stored something: %+v", page.Value)
	}
	// A body exactly at the limit is fine.
	prefix, suffix := `{"externalIp":"1.2.3.4","machineName":"`, `","status":"active"}`
	exact := prefix + strings.Repeat("m", 64-len(prefix)-len(suffix)) + suffix
	if len(exact) != 64 {
		t.Fatalf("test body is %d bytes, want 64", len(exact))
	}
	if res := h.add(testApp, exact); res.status != http.StatusNoContent {
		t.Errorf("body at the limit: %d %s", res.status, res.body)
	}
}

// failingStore fails, or panics, on every call.
type failingStore struct{ panics bool }

var errDiskOnFire = errors.New("disk on fire")

func (s failingStore) fail() error {
	if s.panics {
		panic("store exploded")
	}
	return errDiskOnFire
}
func (s failingStore) Add(context.Context, uuid.UUID, store.Member) error { return s.fail() }
func (s failingStore) Get(context.Context, uuid.UUID, uuid.UUID) (store.Member, error) {
	return store.Member{}, s.fail()
}
func (s failingStore) Remove(context.Context, uuid.UUID, uuid.UUID) error { return s.fail() }
func (s failingStore) List(context.Context, uuid.UUID, store.Cursor, int) (store.Page, error) {
	return store.Page{}, s.fail()
}
func (s failingStore) Reset(context.Context, *uuid.UUID) error { return s.fail() }
func (s failingStore) Applications(context.Context, store.Cursor, int) (store.ApplicationList, error) {
	return store.ApplicationList{}, s.fail()
}
func (s failingStore) Members() int                                 { return 0 }
func (s failingStore) Register(context.Context, store.Member) error { return s.fail() }
func (s failingStore) AddReference(context.Context, uuid.UUID, uuid.UUID) (store.Member, error) {
	return store.Member{}, s.fail()
}
func (s failingStore) Connector(context.Context, uuid.UUID) (store.Member, error) {
	return store.Member{}, s.fail()
}
func (s failingStore) Connectors(context.Context, store.Cursor, int) (store.Page, error) {
	return store.Page{}, s.fail()
}
func (s failingStore) MemberOf(context.Context, uuid.UUID, store.Cursor, int) (store.GroupPage, error) {
	return store.GroupPage{}, s.fail()
}
func (s failingStore) Do(context.Context, store.Op) (store.Member, error) {
	return store.Member{}, s.fail()
}
func (s failingStore) Group(context.Context, uuid.UUID) (store.Group, error) {
	return store.Group{}, s.fail()
}
func (s failingStore) Groups(context.Context, store.Cursor, int) (store.GroupList, error) {
	return store.GroupList{}, s.fail()
}
func (s failingStore) ApplicationGroup(context.Context, uuid.UUID) (uuid.UUID, error) {
	return uuid.UUID{}, s.fail()
}
func (s failingStore) GroupApplications(context.Context, uuid.UUID, store.Cursor, int) (store.ApplicationPage, error) {
	return store.ApplicationPage{}, s.fail()
}

func (s failingStore) ScanMembers(context.Context, *uuid.UUID, store.Cursor, func(store.Cursor, *store.Member) bool) error {
	return s.fail()
}
func (s failingStore) ScanGroups(context.Context, store.Cursor, func(store.Cursor, *store.Group) bool) error {
	return s.fail()
}
func (s failingStore) ScanApplications(context.Context, uuid.UUID, store.Cursor, func(store.Cursor, uuid.UUID) bool) error {
	return s.fail()
}

func TestInternalErrors(t *testing.T) {
	for _, panics := range []bool{false, true} {
		h := newHarness(t, server.Config{Store: failingStore{panics: panics}})
		for _, op := range []struct{ method, target, body string }{
			{http.MethodPost, addPath(testApp), validBody},
			{http.MethodGet, listPath(testApp), ""},
			{http.MethodGet, memberPath(testApp, uuid.NewString()), ""},
			{http.MethodDelete, memberPath(testApp, uuid.NewString()) + "/$ref", ""},
		} {
			res := h.do(op.method, op.target, jsonHeader(), strings.NewReader(op.body))
			assertError(t, res, 500, "InternalServerError", "")
			env := decodeError(t, res.body)
			for _, secret := range []string{"disk on fire", "store exploded", "goroutine"} {
				if strings.Contains(env.Error.Message, secret) {
					t.Errorf("the 500 tells the client %q: %s", secret, env.Error.Message)
				}
			}
			rid := res.header.Get("request-id")
			logs := h.logs.String()
			want := "disk on fire"
			if panics {
				want = "store exploded"
			}
			if !strings.Contains(logs, rid) || !strings.Contains(logs, want) {
				t.Errorf("the log lacks the request-id %s or the cause %q:\n%s", rid, want, logs)
			}
		}
	}
}

// statusNames are the connector's statuses as the validator's messages list
// them, read from generated/ so that a status added to the spec needs no
// edit here.
var statusNames = func() string {
	var names []string
	for _, v := range generated.ConnectorStatusValues() {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}()
