package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/admin"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/journal"
	"github.com/connector-group/members-api/server/store"
)

const (
	connectorsPath = "/onPremisesPublishingProfiles/applicationProxy/connectors"
	groupsURL      = "/onPremisesPublishingProfiles/applicationProxy/connectorGroups"
)

// proxyExchange is one call through the proxy, as a client sees it.
type proxyExchange struct {
	status int
	header http.Header
	body   []byte
}

// call sends method target (with body, when not "") to base with token.
func call(t *testing.T, base, method, target, token, body string) proxyExchange {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+target, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s -> %d %s", method, target, rsp.StatusCode, firstLine(b))
	return proxyExchange{rsp.StatusCode, rsp.Header, b}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// startProxy starts the mock in proxy mode in front of upstream.
func startProxy(t *testing.T, upstream string, invalid bool) (*server.Server, string) {
	t.Helper()
	proxy, err := server.New(server.Config{Proxy: upstream, ProxyInvalid: invalid, Token: "admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return proxy, srv.URL
}

// proxyJournal is the proxy's journal, newest first.
func proxyJournal(t *testing.T, base, query string) []admin.JournalEntry {
	t.Helper()
	res := call(t, base, http.MethodGet, "/_admin/requests"+query, "admin-token", "")
	var list admin.RequestList
	if err := json.Unmarshal(res.body, &list); err != nil {
		t.Fatalf("the journal: %d %s", res.status, res.body)
	}
	return list.Value
}

// TestProxyToAMock: the proxy in front of a second mock, the service as far
// as the proxy knows. Every exchange agrees with the spec; the token goes to
// the service, which checks it; the journal, the metrics and the recorded
// seed file show it; a third mock loads the file and serves the same state.
func TestProxyToAMock(t *testing.T) {
	service, err := server.New(server.Config{Token: "service-token"})
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewServer(service)
	defer upstream.Close()
	proxy, base := startProxy(t, upstream.URL, false)

	app := uuid.NewString()
	if res := call(t, base, http.MethodGet, connectorsPath, "wrong-token", ""); res.status != http.StatusUnauthorized {
		t.Errorf("a token the service refuses: %d, want the service's 401", res.status)
	}
	created := call(t, base, http.MethodPost, "/beta"+groupsURL, "service-token", `{"name":"eu-connectors","region":"eur"}`)
	var group generated.ConnectorGroup
	if created.status != http.StatusCreated || json.Unmarshal(created.body, &group) != nil {
		t.Fatalf("create a group through the proxy: %d %s", created.status, created.body)
	}
	added := call(t, base, http.MethodPost, addPath(app), "service-token", validBody)
	if added.status != http.StatusNoContent || added.header.Get("request-id") == "" {
		t.Fatalf("add through the proxy: %d %v", added.status, added.header)
	}
	listed := call(t, base, http.MethodGet, listPath(app), "service-token", "")
	var page generated.ConnectorCollection
	if json.Unmarshal(listed.body, &page) != nil || len(page.Value) != 1 {
		t.Fatalf("list through the proxy: %d %s", listed.status, listed.body)
	}
	connector := page.Value[0].ID.String()
	ref := `{"@odata.id":"https://graph.microsoft.com/beta` + connectorsPath + "/" + connector + `"}`
	if res := call(t, base, http.MethodPost, groupsURL+"/"+group.ID.String()+"/members/$ref", "service-token", ref); res.status != http.StatusNoContent {
		t.Fatalf("move to the group: %d %s", res.status, res.body)
	}
	groupRef := `{"@odata.id":"https://graph.microsoft.com/beta` + groupsURL + "/" + group.ID.String() + `"}`
	if res := call(t, base, http.MethodPut, "/applications/"+app+"/connectorGroup/$ref", "service-token", groupRef); res.status != http.StatusNoContent {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	for _, target := range []string{connectorsPath, groupsURL + "/" + group.ID.String() + "/members", "/applications/" + app + "/connectorGroup"} {
		if res := call(t, base, http.MethodGet, target, "service-token", ""); res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, res.status, res.body)
		}
	}
	// The service holds what was sent: the proxy kept nothing of its own.
	if got := service.Requests(jFilter("addConnectorGroupMember")); len(got) != 1 {
		t.Errorf("the service saw %d adds, want 1", len(got))
	}
	entries := proxyJournal(t, base, "")
	for _, e := range entries {
		if !deref(e.Proxied) || e.Disagreements != nil {
			t.Errorf("%s %s: proxied %v, disagreements %+v; want proxied, none", e.Method, e.Path, deref(e.Proxied), e.Disagreements)
		}
	}
	raw := call(t, base, http.MethodGet, "/_admin/requests", "admin-token", "")
	if strings.Contains(string(raw.body), "service-token") {
		t.Errorf("the journal keeps the service's token")
	}

	// The recorded seed file, loaded by a third mock.
	path := filepath.Join(t.TempDir(), "recorded.json")
	if err := proxy.WriteRecord(path); err != nil {
		t.Fatal(err)
	}
	recorded, _ := os.ReadFile(path)
	t.Logf("recorded seed file:\n%s", recorded)
	if strings.Contains(string(recorded), "token") {
		t.Errorf("the recorded file names a token:\n%s", recorded)
	}
	replay := store.NewMemory()
	if _, err := server.Seed(context.Background(), replay, path); err != nil {
		t.Fatalf("a third mock loads the recorded file: %v", err)
	}
	third := newHarness(t, server.Config{Store: replay})
	got := third.list(groupsURL + "/" + group.ID.String() + "/members")
	if len(got.Value) != 1 || got.Value[0].ID.String() != connector || got.Value[0].MachineName != "connector-eu-01" {
		t.Errorf("the third mock's group members: %+v, want the connector", got.Value)
	}
	res := third.do(http.MethodGet, "/applications/"+app+"/connectorGroup", authed(), nil)
	var assigned generated.ConnectorGroup
	if res.status != 200 || json.Unmarshal(res.body, &assigned) != nil || assigned.ID != group.ID || assigned.Name != "eu-connectors" {
		t.Errorf("the third mock's group of the application: %d %s", res.status, res.body)
	}
}

func jFilter(operation string) journal.Filter {
	return journal.Filter{Operation: &operation}
}

// TestProxyDisagreements: an upstream that answers as the service may, in
// ways the spec does not expect. Each answer passes on unchanged; each
// disagreement is journalled (pointer, what the spec says, what arrived),
// listed with ?disagreements=true and counted in /metrics.
func TestProxyDisagreements(t *testing.T) {
	var calls atomic.Int32
	connector, group, app := uuid.NewString(), uuid.NewString(), uuid.NewString()
	quirks := map[string]struct {
		status int
		body   string
	}{
		"GET " + connectorsPath + "/" + connector:                                        {200, `{"id":"` + connector + `","externalIp":"198.51.100.3","machineName":"agent-3","status":"active","version":"1.5.3437.0"}`},
		"GET " + groupsURL + "/" + group:                                                 {404, `{"error":{"code":"Request_ResourceNotFound","message":"Resource not found.","innerError":{"date":"2026-11-28T15:04:05","request-id":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}`},
		"DELETE /applications/" + app + "/connectorGroup/members/" + connector + "/$ref": {409, `{"error":{"code":"Conflict","message":"busy"}}`},
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q, ok := quirks[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "0f8fad5b-d9cb-469f-a165-70867728950e")
		w.WriteHeader(q.status)
		io.WriteString(w, q.body)
	}))
	defer upstream.Close()
	_, base := startProxy(t, upstream.URL, false)
	for _, tc := range []struct {
		method, target string
		want           []admin.Disagreement
	}{
		{"GET", connectorsPath + "/" + connector, []admin.Disagreement{{Direction: "response", Pointer: "/version", Spec: "no such property (additionalProperties: false)", Arrived: `"1.5.3437.0"`}}},
		{"GET", groupsURL + "/" + group, []admin.Disagreement{{Direction: "response", Pointer: "/error/innerError/date", Spec: `string doesn't match the format "date-time"`, Arrived: `"2026-11-28T15:04:05"`}}},
		{"DELETE", "/applications/" + app + "/connectorGroup/members/" + connector + "/$ref", []admin.Disagreement{{Direction: "response", Pointer: "status", Spec: "one of the statuses the operation lists", Arrived: "409"}}},
	} {
		q := quirks[tc.method+" "+tc.target]
		res := call(t, base, tc.method, tc.target, "any-token", "")
		if res.status != q.status || string(res.body) != q.body {
			t.Errorf("%s %s: %d %s; want the service's answer unchanged, %d %s", tc.method, tc.target, res.status, res.body, q.status, q.body)
		}
		e := proxyJournal(t, base, "?$top=1")[0]
		if e.Disagreements == nil || !slices.Equal(*e.Disagreements, tc.want) {
			t.Errorf("%s %s: disagreements %+v\nwant %+v", tc.method, tc.target, e.Disagreements, tc.want)
		}
	}
	if got := len(proxyJournal(t, base, "?disagreements=true")); got != 3 {
		t.Errorf("?disagreements=true lists %d entries, want 3", got)
	}
	metrics := call(t, base, http.MethodGet, "/metrics", "", "")
	for _, want := range []string{
		`connector_mock_proxy_disagreements_total{direction="response",operation="getConnector"} 1`,
		`connector_mock_proxy_disagreements_total{direction="response",operation="getConnectorGroup"} 1`,
		`connector_mock_proxy_disagreements_total{direction="response",operation="removeConnectorGroupMember"} 1`,
	} {
		if !strings.Contains(string(metrics.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A request the spec refuses is answered here, and never reaches the service.
	before := calls.Load()
	refused := call(t, base, http.MethodPost, addPath(app), "any-token", pageExample)
	if refused.status != http.StatusBadRequest || calls.Load() != before {
		t.Errorf("an invalid add: %d, service called %d times; want the mock's 400 and no call", refused.status, calls.Load()-before)
	}
	// With --proxy-invalid it goes on, and the journal says what the spec refuses.
	_, lenient := startProxy(t, upstream.URL, true)
	forwarded := call(t, lenient, http.MethodPost, addPath(app), "any-token", pageExample)
	if forwarded.status != http.StatusNotFound || calls.Load() != before+1 {
		t.Errorf("an invalid add with --proxy-invalid: %d; want the service's 404", forwarded.status)
	}
	e := proxyJournal(t, lenient, "?$top=1")[0]
	if e.Disagreements == nil || len(*e.Disagreements) < 2 || (*e.Disagreements)[0].Direction != "request" || (*e.Disagreements)[0].Pointer != "/externalIp" {
		t.Errorf("the forwarded invalid add's disagreements: %+v", e.Disagreements)
	}
}

// TestProxyToADeadService: a service that cannot be reached is a 502 in the
// envelope, naming the host.
func TestProxyToADeadService(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, base := startProxy(t, url, false)
	res := call(t, base, http.MethodGet, connectorsPath, "any-token", "")
	env := decodeError(t, res.body)
	if res.status != http.StatusBadGateway || env.Error.Code != "BadGateway" || !strings.Contains(env.Error.Message, strings.TrimPrefix(url, "http://")) {
		t.Errorf("a dead service: %d %s", res.status, res.body)
	}
	checker := specChecker(t)
	req := httptest.NewRequest(http.MethodGet, connectorsPath, nil)
	checker.MustCheck(t, req, res.status, res.header, res.body)
}

// TestProxyOverHTTPS: the service is reached over https, as graph.microsoft.com
// is. With a client that trusts the service's certificate the exchange goes
// through and agrees with the spec; with the default client, which trusts
// only the system's roots, a self-signed service is a 502 that says why,
// never an answer from a server whose certificate was not checked.
func TestProxyOverHTTPS(t *testing.T) {
	service, err := server.New(server.Config{Token: "service-token"})
	if err != nil {
		t.Fatal(err)
	}
	upstream := httptest.NewTLSServer(service)
	defer upstream.Close()

	trusting, err := server.New(server.Config{Proxy: upstream.URL, ProxyClient: upstream.Client(), Token: "admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(trusting)
	defer front.Close()
	res := call(t, front.URL, http.MethodGet, connectorsPath, "service-token", "")
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"value":[]`) {
		t.Fatalf("through the proxy over https: %d %s", res.status, res.body)
	}
	entries := proxyJournal(t, front.URL, "")
	if len(entries) != 1 || !deref(entries[0].Proxied) || entries[0].Disagreements != nil {
		t.Errorf("the journal: %+v", entries)
	}

	_, base := startProxy(t, upstream.URL, false)
	res = call(t, base, http.MethodGet, connectorsPath, "service-token", "")
	env := decodeError(t, res.body)
	if res.status != http.StatusBadGateway || env.Error.Code != "BadGateway" || !strings.Contains(env.Error.Message, "certificate") {
		t.Errorf("an untrusted certificate: %d %s", res.status, res.body)
	}
	if got := service.Requests(jFilter("listConnectors")); len(got) != 1 {
		t.Errorf("the service saw %d listings, want 1 (the untrusted exchange never reached it)", len(got))
	}
}

// TestProxyStreams: the service's answer reaches the client as it arrives,
// before the service has finished it, and is checked once whole; an answer
// the service breaks off is broken off for the client too (never a short
// answer that looks whole), and journalled as a disagreement.
func TestProxyStreams(t *testing.T) {
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "0f8fad5b-d9cb-469f-a165-70867728950e")
		if r.URL.Query().Has("$top") { // the broken answer: half a page, then the connection closes
			w.Header().Set("Content-Length", "200")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"value":[`)
			return
		}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"value":[`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `]}`)
	}))
	defer upstream.Close()
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free() // before the upstream closes, which waits for its handlers
	_, base := startProxy(t, upstream.URL, false)

	first := make(chan string, 1)
	var rsp *http.Response
	go func() {
		var err error
		if rsp, err = http.Get(base + connectorsPath); err != nil {
			first <- err.Error()
			return
		}
		b := make([]byte, len(`{"value":[`))
		if _, err := io.ReadFull(rsp.Body, b); err != nil {
			first <- err.Error()
			return
		}
		first <- string(b)
	}()
	select {
	case got := <-first:
		if got != `{"value":[` {
			t.Fatalf("the first part: %q", got)
		}
	case <-time.After(30 * time.Second): // a deadlock guard, not a bound on speed
		t.Fatal("the first part of the answer did not arrive before the service finished it: the proxy does not stream")
	}
	free()
	defer rsp.Body.Close()
	rest, err := io.ReadAll(rsp.Body)
	if err != nil || string(rest) != `]}` {
		t.Fatalf("the rest: %q, %v", rest, err)
	}
	e := proxyJournal(t, base, "?$top=1")[0]
	if e.Status != http.StatusOK || !deref(e.Proxied) || e.Disagreements != nil {
		t.Errorf("the streamed answer's entry: %d, proxied %v, %+v", e.Status, deref(e.Proxied), e.Disagreements)
	}

	broken, err := http.Get(base + connectorsPath + "?$top=5")
	if err != nil {
		t.Fatal(err)
	}
	defer broken.Body.Close()
	got, err := io.ReadAll(broken.Body)
	if err == nil {
		t.Errorf("an answer the service broke off reached the client as whole: %q", got)
	}
	e = proxyJournal(t, base, "?$top=1")[0]
	want := []admin.Disagreement{{Direction: "response", Spec: "a whole answer", Arrived: "the service broke off after 10 bytes: unexpected EOF"}}
	if e.Disagreements == nil || !slices.Equal(*e.Disagreements, want) {
		t.Errorf("the broken answer's disagreements: %+v, want %+v", e.Disagreements, want)
	}
}
