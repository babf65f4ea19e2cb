package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

// The findings of an attack on the server, each as a user would see it: the
// status, the envelope's targets and messages, and what the store holds.

// many40 is 40 property names the schema does not have, each with a value.
func many40() string {
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, `"u%d":1,`, i)
	}
	return b.String()
}

func TestHostileBodies(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString(`{`)
		for i := range n {
			fmt.Fprintf(&b, `"unknown%d":1,`, i)
		}
		b.WriteString(`"externalIp":"203.0.113.7","machineName":"m","status":"active"}`)
		return b.String()
	}
	hugeName := strings.Repeat("k", 900_000)
	for _, tc := range []struct {
		name    string
		body    string
		targets []string
		message string // what the first detail says, in part
	}{
		{"duplicate property", `{"externalIp":"203.0.113.7","machineName":"a","machineName":"b","status":"active"}`,
			[]string{"/machineName"}, `property "machineName" appears more than once`},
		{"duplicate unknown property", `{"x":1,"x":2}`, []string{"/x"}, `property "x" appears more than once`},
		{"duplicate spelled with an escape", `{"externalIp":"203.0.113.7","machineName":"a","\u006dachineName":"b","status":"active"}`,
			[]string{"/machineName"}, `property "machineName" appears more than once`},
		{"duplicate after 40 names", `{"status":"active",` + many40() + `"status":"inactive"}`,
			[]string{"/status"}, `property "status" appears more than once`},
		{"invalid UTF-8 in machineName", "{\"externalIp\":\"203.0.113.7\",\"machineName\":\"a\xffb\",\"status\":\"active\"}",
			[]string{"/machineName"}, "not valid UTF-8"},
		{"escaped lone surrogate in machineName", `{"externalIp":"203.0.113.7","machineName":"a\ud800b","status":"active"}`,
			[]string{"/machineName"}, "lone surrogate"},
		{"IPv6 with a zone", withField("externalIp", `"fe80::1%eth0"`), []string{"/externalIp"}, "is not a valid ipv4 or ipv6"},
		{"IPv6 with a hostile zone", withField("externalIp", `"fe80::1%a b<script>"`), []string{"/externalIp"}, "is not a valid ipv4 or ipv6"},
		{"IPv4 with a leading zero", withField("externalIp", `"010.0.0.1"`), []string{"/externalIp"}, "is not a valid ipv4 or ipv6"},
		{"two top-level values", validBody + validBody, []string{""}, "not valid JSON"},
		{"a 900 KB unknown name", `{"` + hugeName + `":1,"externalIp":"203.0.113.7","machineName":"m","status":"active"}`,
			[]string{"/" + hugeName[:64] + "…"}, `property "` + hugeName[:64] + `…" is not allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, server.Config{})
			app := uuid.NewString()
			res := h.add(app, tc.body)
			assertError(t, res, 400, "Request_BadRequest", "")
			env := decodeError(t, res.body)
			if got := targets(env); !slices.Equal(got, tc.targets) {
				t.Errorf("targets %q, want %q", got, tc.targets)
			}
			if !strings.Contains(env.Error.Message, tc.message) {
				t.Errorf("message %q, want it to say %q", env.Error.Message, tc.message)
			}
			if len(res.body) > 2048 {
				t.Errorf("a %d-byte body got a %d-byte error", len(tc.body), len(res.body))
			}
			if page := h.list(listPath(app)); len(page.Value) != 0 {
				t.Errorf("a refused body stored %+v", page.Value)
			}
		})
	}

	t.Run("a surrogate pair is one character, stored exactly", func(t *testing.T) {
		h := newHarness(t, server.Config{})
		app := uuid.NewString()
		if res := h.add(app, withField("machineName", `"a\ud83d\ude00b"`)); res.status != http.StatusNoContent {
			t.Fatalf("status %d %s", res.status, res.body)
		}
		if got := h.list(listPath(app)).Value[0].MachineName; got != "a😀b" {
			t.Errorf("stored %q, want %q", got, "a😀b")
		}
	})

	t.Run("violations are capped", func(t *testing.T) {
		h := newHarness(t, server.Config{})
		res := h.add(testApp, many(150))
		env := decodeError(t, res.body)
		details := *env.Error.Details
		if len(details) != 101 || !strings.Contains(details[100].Message, "50 more violations") {
			t.Errorf("%d details, the last saying %q; want 100 and a note of 50 more", len(details), details[len(details)-1].Message)
		}
	})
}

func TestHostileParameters(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, option := range []string{"$skip", "$search", "$expand"} {
		res := h.do(http.MethodGet, listPath(testApp)+"?"+option+"=x", authed(), nil)
		assertError(t, res, 400, "Request_BadRequest", "")
		env := decodeError(t, res.body)
		if got := targets(env); !slices.Equal(got, []string{option}) || !strings.Contains(env.Error.Message, "not supported") {
			t.Errorf("%s: targets %q, message %q", option, got, env.Error.Message)
		}
	}
	// The options the mock supports refuse a value they cannot apply, by name.
	for option, want := range map[string]string{
		"$filter":  "Could not find a property named 'x' on type 'microsoft.graph.connector'.",
		"$select":  "Could not find a property named 'x' on type 'microsoft.graph.connector'.",
		"$orderby": "Could not find a property named 'x' on type 'microsoft.graph.connector'.",
		"$count":   `value "x" is not true or false`,
	} {
		res := h.do(http.MethodGet, listPath(testApp)+"?"+option+"=x", authed(), nil)
		assertError(t, res, 400, "Request_BadRequest", "")
		env := decodeError(t, res.body)
		if got := targets(env); !slices.Equal(got, []string{option}) || env.Error.Message != want {
			t.Errorf("%s: targets %q, message %q; want %q", option, got, env.Error.Message, want)
		}
	}
	// An unknown parameter that is no OData option is left alone (cache busters).
	if res := h.do(http.MethodGet, listPath(testApp)+"?_=123", authed(), nil); res.status != http.StatusOK {
		t.Errorf("?_=123: %d %s", res.status, res.body)
	}

	for _, tc := range []struct {
		name, target string
		header       http.Header
		want         []string
		message      string
	}{
		{"$top twice", listPath(testApp) + "?$top=1&$top=2", authed(), []string{"$top"}, "query parameter $top is given 2 times; give it once"},
		{"$skiptoken twice", listPath(testApp) + "?$skiptoken=a&$skiptoken=b", authed(), []string{"$skiptoken"}, "given 2 times"},
		{"client-request-id three times", listPath(testApp), http.Header{"Authorization": {"Bearer t"}, "Client-Request-Id": {"a", "b", "c"}},
			[]string{"client-request-id"}, "array must have at most 2 items"},
		{"a query that is not URL encoding", listPath(testApp) + "?$top=%zz", authed(), []string{""}, "not valid URL encoding"},
	} {
		res := h.do(http.MethodGet, tc.target, tc.header, nil)
		assertError(t, res, 400, "Request_BadRequest", "")
		env := decodeError(t, res.body)
		if got := targets(env); !slices.Equal(got, tc.want) || !strings.Contains(env.Error.Message, tc.message) {
			t.Errorf("%s: targets %q, message %q; want %q, %q", tc.name, got, env.Error.Message, tc.want, tc.message)
		}
	}

	res := h.do(http.MethodGet, listPath(testApp), http.Header{"Authorization": {"Bearer a", "Bearer b"}}, nil)
	assertError(t, res, 401, "InvalidAuthenticationToken", "")

	// The Graph SDKs' telemetry handler adds its client-request-id to the
	// caller's: both are taken, and the caller's, the first, is echoed, also
	// in an error's innerError.
	for _, target := range []string{listPath(testApp), memberPath(testApp, uuid.NewString())} {
		res := h.do(http.MethodGet, target, http.Header{"Authorization": {"Bearer t"}, "Client-Request-Id": {"mine", "the-sdk's"}}, nil)
		if res.header.Get("client-request-id") != "mine" || len(res.header.Values("client-request-id")) != 1 {
			t.Errorf("GET %s with two client-request-id lines: %d, echoed %q", target, res.status, res.header.Values("client-request-id"))
		}
		if res.status == http.StatusNotFound {
			if env := decodeError(t, res.body); env.Error.InnerError.ClientRequestID == nil || *env.Error.InnerError.ClientRequestID != "mine" {
				t.Errorf("innerError.client-request-id: %v", env.Error.InnerError.ClientRequestID)
			}
		} else if res.status != http.StatusOK {
			t.Errorf("GET %s with two client-request-id lines: %d %s", target, res.status, res.body)
		}
	}
}

// TestPreferFollowsRFC7240: a list in one or several lines, parameters after
// ";" and unknown preferences ignored, the first return counting.
func TestPreferFollowsRFC7240(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, tc := range []struct {
		prefer []string
		want   int
	}{
		{[]string{"return=representation; odata.maxpagesize=5"}, http.StatusCreated},
		{[]string{"odata.maxpagesize=5", "return=representation"}, http.StatusCreated},
		{[]string{"respond-async, return=representation"}, http.StatusCreated},
		{[]string{`return="representation"`}, http.StatusCreated},
		{[]string{"return = representation"}, http.StatusCreated},
		{[]string{"return=minimal", "return=representation"}, http.StatusNoContent},
		{[]string{"handling=lenient"}, http.StatusNoContent},
	} {
		header := jsonHeader()
		header["Prefer"] = tc.prefer
		res := h.do(http.MethodPost, addPath(uuid.NewString()), header, strings.NewReader(validBody))
		if res.status != tc.want {
			t.Errorf("Prefer %q: %d, want %d\n%s", tc.prefer, res.status, tc.want, res.body)
		}
	}
}

func TestCharsetOtherThanUTF8(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json; charset=utf-16", http.StatusUnsupportedMediaType},
		{"application/json; charset=iso-8859-1", http.StatusUnsupportedMediaType},
		{"application/json; charset=UTF-8", http.StatusNoContent},
		{"application/json;charset=\"utf-8\"", http.StatusNoContent},
	} {
		res := h.do(http.MethodPost, addPath(uuid.NewString()), authed("Content-Type", tc.contentType), strings.NewReader(validBody))
		if res.status != tc.want {
			t.Errorf("%s: %d, want %d\n%s", tc.contentType, res.status, tc.want, res.body)
		}
		if tc.want == http.StatusUnsupportedMediaType {
			assertError(t, res, 415, "UnsupportedMediaType", "")
			if env := decodeError(t, res.body); env.Error.Target == nil || *env.Error.Target != "Content-Type" {
				t.Errorf("%s: target %v, want Content-Type", tc.contentType, env.Error.Target)
			}
		}
	}
}

// TestEscapedSlashIsNoSeparator: %2F is part of its segment, so the path is
// no route, while %24ref is $ref.
func TestEscapedSlashIsNoSeparator(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	for _, target := range []string{
		"/applications%2F" + app + "%2FconnectorGroup%2Fmembers%2F%24ref",
		"/applications/" + app + "/connectorGroup%2Fmembers/%24ref",
		"/applications/" + app + "%2FconnectorGroup/members/$ref",
	} {
		res := h.do(http.MethodPost, target, jsonHeader(), strings.NewReader(validBody))
		assertError(t, res, 400, "BadRequest", "")
	}
	if page := h.list(listPath(app)); len(page.Value) != 0 {
		t.Errorf("a path with %%2F stored %+v", page.Value)
	}
}

// TestTokenWithSpacesIsRefused: such a token could never match a header.
func TestTokenWithSpacesIsRefused(t *testing.T) {
	for _, token := range []string{" s3cret", "s3cret ", "\ts3cret"} {
		if _, err := server.New(server.Config{Token: token}); err == nil {
			t.Errorf("token %q accepted", token)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

// TestSkipTokenIsBoundToItsApplication: a token from another application, or
// one the server never issued, is a 400 naming $skiptoken.
func TestSkipTokenIsBoundToItsApplication(t *testing.T) {
	h := newHarness(t, server.Config{})
	a, b := uuid.NewString(), uuid.NewString()
	for i := range 3 {
		h.addMember(a, fmt.Sprint("a", i))
		h.addMember(b, fmt.Sprint("b", i))
	}
	next := h.list(listPath(a) + "?$top=1").OdataNextLink
	if next == nil {
		t.Fatal("no nextLink after the first of three")
	}
	u, err := url.Parse(*next)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("$skiptoken")
	tampered := []byte(token)
	tampered[5] ^= 1 // another base64url character, of the same class
	for _, target := range []string{
		listPath(b) + "?$skiptoken=" + token,
		listPath(a) + "?$skiptoken=" + string(tampered),
		listPath(a) + "?$skiptoken=AQAAAAAAAAAB",
	} {
		res := h.do(http.MethodGet, target, authed(), nil)
		assertError(t, res, 400, "Request_BadRequest", "")
		if got := targets(decodeError(t, res.body)); !slices.Equal(got, []string{"$skiptoken"}) {
			t.Errorf("%s: targets %q", target, got)
		}
	}
	if got := h.walkFrom(u.RequestURI()); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("resuming with the token: %q", got)
	}
}

// realServer serves cfg over loopback, with net/http's real connection
// handling (HEAD bodies dropped, contexts cancelled when a client goes).
func realServer(t *testing.T, cfg server.Config) *httptest.Server {
	t.Helper()
	h, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHeadIsAnsweredWhereGetIs(t *testing.T) {
	srv := realServer(t, server.Config{})
	app := uuid.NewString()
	check := specChecker(t)
	for _, tc := range []struct {
		target string
		status int
		allow  string
	}{
		{listPath(app), http.StatusOK, ""},
		{memberPath(app, uuid.NewString()), http.StatusNotFound, ""},
		{"/healthz", http.StatusOK, ""},
		{"/openapi.yaml", http.StatusOK, ""},
		{addPath(app), http.StatusMethodNotAllowed, "POST"},
	} {
		req, _ := http.NewRequest(http.MethodHead, srv.URL+tc.target, nil)
		req.Header.Set("Authorization", "Bearer t")
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		if rsp.StatusCode != tc.status || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want %d and none", tc.target, rsp.StatusCode, len(body), tc.status)
		}
		if rsp.Header.Get("request-id") == "" {
			t.Errorf("HEAD %s: no request-id", tc.target)
		}
		if got := rsp.Header.Get("Allow"); got != tc.allow {
			t.Errorf("HEAD %s: Allow %q, want %q", tc.target, got, tc.allow)
		}
		if tc.status != http.StatusMethodNotAllowed {
			check.MustCheck(t, req, rsp.StatusCode, rsp.Header, body)
		}
	}
}

// TestHTTP10WithoutHost: Location is absolute and valid even when the
// request names no host; the listening address names the server.
func TestHTTP10WithoutHost(t *testing.T) {
	srv := realServer(t, server.Config{})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.0\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addPath(testApp), len(validBody), validBody)
	rsp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", rsp.StatusCode)
	}
	loc, err := url.Parse(rsp.Header.Get("Location"))
	if err != nil || !loc.IsAbs() || loc.Host != srv.Listener.Addr().String() {
		t.Errorf("Location %q: want an absolute URL on %s (%v)", rsp.Header.Get("Location"), srv.Listener.Addr(), err)
	}
}

// slowStore waits before each write, long enough for net/http to notice a
// client that half-closed its side and cancel the request's context.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) Add(ctx context.Context, app uuid.UUID, m store.Member) error {
	time.Sleep(s.delay)
	return s.Store.Add(ctx, app, m)
}

// TestHalfClosedClientGetsNo500: a client that half-closes after sending
// its request still gets its answer, and the add it asked for is kept.
func TestHalfClosedClientGetsNo500(t *testing.T) {
	srv := realServer(t, server.Config{Store: slowStore{store.NewMemory(), 100 * time.Millisecond}})
	app := uuid.NewString()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addPath(app), len(validBody), validBody)
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	rsp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusNoContent {
		t.Errorf("half-closed add: %d %s, want 204", rsp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+listPath(app), nil)
	req.Header.Set("Authorization", "Bearer t")
	got, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	var page struct{ Value []json.RawMessage }
	if err := json.NewDecoder(got.Body).Decode(&page); err != nil || len(page.Value) != 1 {
		t.Errorf("after the half-closed add the group holds %d members (%v), want 1", len(page.Value), err)
	}
}
