package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/generated/admin"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

func (h *harness) journal(query string) []admin.JournalEntry {
	h.t.Helper()
	res := h.do(http.MethodGet, "/_admin/requests"+query, authed(), nil)
	if res.status != http.StatusOK {
		h.t.Fatalf("GET /_admin/requests%s: %d %s", query, res.status, res.body)
	}
	var list admin.RequestList
	if err := json.Unmarshal(res.body, &list); err != nil {
		h.t.Fatal(err)
	}
	return list.Value
}

// TestJournalRecordsWhatWasSent: a refused add is in the journal with its
// targets, its client-request-id and its body; the token is not.
func TestJournalRecordsWhatWasSent(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	header := jsonHeader("client-request-id", "my-test-42", "Prefer", "return=minimal", "User-Agent", "app-under-test/1.0")
	header.Set("Authorization", "Bearer very-secret-token")
	h.do(http.MethodPost, addPath(app), header, strings.NewReader(pageExample))
	entries := h.journal("")
	if len(entries) != 1 {
		t.Fatalf("%d entries, want 1", len(entries))
	}
	e := entries[0]
	want := admin.JournalEntry{Method: "POST", Path: addPath(app), Operation: "addConnectorGroupMember", Status: 400}
	if e.Method != want.Method || e.Path != want.Path || e.Operation != want.Operation || e.Status != want.Status ||
		deref(e.ApplicationID) != app || deref(e.ClientRequestID) != "my-test-42" || deref(e.ErrorCode) != "Request_BadRequest" ||
		deref(e.Body) != pageExample || deref(e.UserAgent) != "app-under-test/1.0" || e.Headers["Prefer"] != "return=minimal" {
		t.Errorf("entry %+v", e)
	}
	if e.Targets == nil || !slices.Equal(*e.Targets, []string{"/externalIp", "/status"}) {
		t.Errorf("targets %v", e.Targets)
	}
	raw := h.do(http.MethodGet, "/_admin/requests", authed(), nil)
	if strings.Contains(string(raw.body), "very-secret-token") || strings.Contains(string(raw.body), "Authorization") {
		t.Errorf("the journal keeps the token:\n%s", raw.body)
	}
}

// TestJournalKeepsTheAnswer: an entry keeps the answer's header fields and
// body as the client got them, cut at 4 KiB with a marker, and a request body
// cut the same way says so.
func TestJournalKeepsTheAnswer(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	refused := h.add(app, pageExample)
	e := h.journal("")[0]
	if deref(e.ResponseBody) != string(refused.body) || deref(e.ResponseBodyTruncated) || deref(e.BodyTruncated) {
		t.Errorf("the refused add's entry: body %q truncated %v, want the answer's %q", deref(e.ResponseBody), deref(e.ResponseBodyTruncated), refused.body)
	}
	if e.ResponseHeaders == nil || (*e.ResponseHeaders)["Content-Type"] != refused.header.Get("Content-Type") ||
		(*e.ResponseHeaders)["Request-Id"] != refused.header.Get("request-id") {
		t.Errorf("the refused add's response headers %v, want the answer's %v", e.ResponseHeaders, refused.header)
	}
	for i := range 60 {
		h.add(app, fmt.Sprintf(`{"externalIp":"203.0.113.7","machineName":"machine-%02d","status":"active"}`, i))
	}
	listing := h.do(http.MethodGet, listPath(app), authed(), nil)
	e = h.journal("?operation=listConnectorGroupMembers")[0]
	if len(listing.body) <= 4<<10 || !deref(e.ResponseBodyTruncated) || deref(e.ResponseBody) != string(listing.body[:4<<10]) {
		t.Errorf("a %d-byte listing: kept %d bytes, truncated %v; want its first 4 KiB, marked", len(listing.body), len(deref(e.ResponseBody)), deref(e.ResponseBodyTruncated))
	}
	long := `{"externalIp":"203.0.113.7","machineName":"` + strings.Repeat("m", 5000) + `","status":"active"}`
	h.add(app, long)
	if e := h.journal("")[0]; !deref(e.BodyTruncated) || len(deref(e.Body)) != 4<<10 {
		t.Errorf("a %d-byte body: kept %d bytes, truncated %v", len(long), len(deref(e.Body)), deref(e.BodyTruncated))
	}
}

// TestPagesLoadsAreNotJournalled: a browser on /docs and /_admin/ asks for
// the pages, their assets, /favicon.ico and /openapi.json; none of it is
// what a test asks the journal about, so a fresh mock's journal stays empty
// while a developer looks at it.
func TestPagesLoadsAreNotJournalled(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, path := range []string{"/docs", "/docs/assets/swagger-ui.css", "/favicon.ico", "/openapi.json", "/_admin/", "/_admin/requests", "/_admin/applications", "/metrics"} {
		h.do(http.MethodGet, path, authed(), nil)
	}
	if entries := h.journal(""); len(entries) != 0 {
		t.Errorf("the pages' own loads were journalled: %+v", entries)
	}
	h.do(http.MethodGet, "/openapi.yaml", authed(), nil)
	h.do(http.MethodGet, "/favicon.png", authed(), nil)
	if entries := h.journal(""); len(entries) != 2 {
		t.Errorf("%d entries for /openapi.yaml and an unknown path, want 2", len(entries))
	}
}

func TestJournalFilters(t *testing.T) {
	h := newHarness(t, server.Config{})
	a, b := uuid.NewString(), uuid.NewString()
	h.add(a, validBody)
	h.add(b, validBody)
	h.add(b, pageExample)
	h.list(listPath(a))
	h.do(http.MethodGet, "/nowhere", authed(), nil)
	for _, tc := range []struct {
		query string
		want  []int // the statuses, newest first
	}{
		{"", []int{400, 200, 400, 204, 204}},
		{"?applicationId=" + b, []int{400, 204}},
		{"?operation=addConnectorGroupMember", []int{400, 204, 204}},
		{"?operation=", []int{400}},
		{"?status=204", []int{204, 204}},
		{"?$top=2", []int{400, 200}},
		{"?applicationId=" + a + "&operation=listConnectorGroupMembers", []int{200}},
	} {
		var got []int
		for _, e := range h.journal(tc.query) {
			got = append(got, e.Status)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: statuses %v, want %v", tc.query, got, tc.want)
		}
	}
	res := h.do(http.MethodGet, "/_admin/requests?status=99", authed(), nil)
	assertError(t, res, 400, "Request_BadRequest", "")
	if res := h.do(http.MethodGet, "/_admin/requests", nil, nil); res.status != http.StatusUnauthorized {
		t.Errorf("the journal without a token: %d", res.status)
	}
}

func TestJournalKeepsTheLastN(t *testing.T) {
	h := newHarness(t, server.Config{JournalSize: 5})
	for i := range 8 {
		h.do(http.MethodGet, "/nowhere/"+strconv.Itoa(i), authed(), nil)
	}
	var paths []string
	for _, e := range h.journal("") {
		paths = append(paths, e.Path)
	}
	if want := []string{"/nowhere/7", "/nowhere/6", "/nowhere/5", "/nowhere/4", "/nowhere/3"}; !slices.Equal(paths, want) {
		t.Errorf("kept %v, want %v", paths, want)
	}
	if res := h.do(http.MethodDelete, "/_admin/requests", authed(), nil); res.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", res.status)
	}
	if n := len(h.journal("")); n != 0 {
		t.Errorf("%d entries after DELETE", n)
	}
	off := newHarness(t, server.Config{JournalSize: -1})
	off.add(testApp, validBody)
	if n := len(off.journal("")); n != 0 {
		t.Errorf("a journal turned off kept %d entries", n)
	}
}

func (h *harness) applications() map[string]int {
	h.t.Helper()
	res := h.do(http.MethodGet, "/_admin/applications", authed(), nil)
	var list admin.ApplicationList
	if err := json.Unmarshal(res.body, &list); err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range list.Value {
		out[a.ID.String()] = a.MemberCount
	}
	return out
}

// TestReset: one application's group, or everything with the journal; with
// a state file, durably (a restart shows the reset held).
func TestReset(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			members := kind.open(t)
			if kind.name == "durable" {
				s, err := store.OpenDurable(path)
				if err != nil {
					t.Fatal(err)
				}
				members = s
			}
			h := newHarness(t, server.Config{Store: members})
			a, b := uuid.NewString(), uuid.NewString()
			h.addMember(a, "a1")
			h.addMember(a, "a2")
			h.addMember(b, "b1")
			if got := h.applications(); got[a] != 2 || got[b] != 1 || len(got) != 2 {
				t.Fatalf("applications %v", got)
			}
			if res := h.do(http.MethodPost, "/_admin/reset?applicationId="+a, authed(), nil); res.status != http.StatusNoContent {
				t.Fatalf("reset %s: %d %s", a, res.status, res.body)
			}
			if got := h.applications(); got[a] != 0 || got[b] != 1 {
				t.Errorf("after resetting %s: %v", a, got)
			}
			if len(h.journal("")) == 0 {
				t.Error("resetting one application emptied the journal")
			}
			if kind.name == "durable" {
				_ = members.(*store.Durable).Close()
				reopened, err := store.OpenDurable(path)
				if err != nil {
					t.Fatal(err)
				}
				defer reopened.Close()
				h = newHarness(t, server.Config{Store: reopened})
				if got := h.applications(); got[a] != 0 || got[b] != 1 {
					t.Errorf("after a restart: %v, want the reset of %s kept", got, a)
				}
			}
			if res := h.do(http.MethodPost, "/_admin/reset", authed(), nil); res.status != http.StatusNoContent {
				t.Fatalf("reset: %d", res.status)
			}
			if got := h.applications(); len(got) != 0 || len(h.journal("")) != 0 { // admin requests are not journaled
				t.Errorf("after resetting everything: %v", got)
			}
			if kind.name == "durable" {
				h.addMember(b, "after-reset")
			}
		})
	}
}

// TestFaultsAtRunTime: PUT /_admin/faults changes the next request.
func TestFaultsAtRunTime(t *testing.T) {
	h := newHarness(t, server.Config{})
	res := h.do(http.MethodGet, "/_admin/faults", authed(), nil)
	var got admin.FaultSettings
	if err := json.Unmarshal(res.body, &got); err != nil || *got.FaultRate != 0 || *got.Latency != "" || len(*got.FaultCodes) != 3 {
		t.Fatalf("the defaults: %s", res.body)
	}
	res = h.do(http.MethodPut, "/_admin/faults", jsonHeader(), strings.NewReader(`{"faultRate":1,"faultCodes":[503],"retryAfter":"3s"}`))
	if res.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.status, res.body)
	}
	next := h.add(uuid.NewString(), validBody)
	assertError(t, next, 503, "ServiceUnavailable", "")
	if next.header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After %q", next.header.Get("Retry-After"))
	}
	if res := h.do(http.MethodGet, "/_admin/faults", authed(), nil); !strings.Contains(string(res.body), `"faultRate":1`) {
		t.Errorf("GET after PUT: %s", res.body)
	}
	for _, tc := range []struct{ body, target string }{
		{`{"latency":"fast"}`, "/latency"},
		{`{"faultCodes":[418]}`, "/faultCodes/0"},
		{`{"faultRate":2}`, "/faultRate"},
		{`{"rateLimit":"lots"}`, "/rateLimit"},
		{`{"surprise":true}`, "/surprise"},
	} {
		res := h.do(http.MethodPut, "/_admin/faults", jsonHeader(), strings.NewReader(tc.body))
		assertError(t, res, 400, "Request_BadRequest", "")
		if got := targets(decodeError(t, res.body)); !slices.Contains(got, tc.target) {
			t.Errorf("%s: targets %v, want %s", tc.body, got, tc.target)
		}
	}
	if res := h.do(http.MethodPut, "/_admin/faults", jsonHeader(), strings.NewReader(`{}`)); res.status != http.StatusOK {
		t.Fatalf("PUT {}: %d", res.status)
	}
	if res := h.add(uuid.NewString(), validBody); res.status != http.StatusNoContent {
		t.Errorf("after turning the faults off: %d", res.status)
	}
}

// faultsNow is GET /_admin/faults.
func (h *harness) faultsNow() admin.FaultSettings {
	h.t.Helper()
	res := h.do(http.MethodGet, "/_admin/faults", authed(), nil)
	var got admin.FaultSettings
	if err := json.Unmarshal(res.body, &got); err != nil {
		h.t.Fatalf("GET /_admin/faults: %d %s", res.status, res.body)
	}
	return got
}

// TestFaultControls: PATCH merges (what connectorctl faults set sends), PUT
// replaces, DELETE clears, and a reset of everything clears the faults
// unless told to keep them.
func TestFaultControls(t *testing.T) {
	h := newHarness(t, server.Config{})
	send := func(method, body string) result {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		res := h.do(method, "/_admin/faults", jsonHeader(), r)
		if want := map[string]int{http.MethodDelete: 204}[method]; want != 0 && res.status != want || want == 0 && res.status != 200 {
			t.Fatalf("%s %s: %d %s", method, body, res.status, res.body)
		}
		return res
	}
	send(http.MethodPatch, `{"faultRate":0.5,"faultCodes":[500]}`)
	send(http.MethodPatch, `{"latency":"10ms"}`)
	if got := h.faultsNow(); *got.FaultRate != 0.5 || len(*got.FaultCodes) != 1 || (*got.FaultCodes)[0] != 500 || *got.Latency != "10ms" {
		t.Errorf("after two PATCHes: rate %v codes %v latency %q; want 0.5, [500], 10ms", *got.FaultRate, *got.FaultCodes, *got.Latency)
	}
	send(http.MethodPatch, `{"faultCodes":[],"latency":""}`)
	if got := h.faultsNow(); *got.FaultRate != 0.5 || len(*got.FaultCodes) != 3 || *got.Latency != "" {
		t.Errorf("a PATCH of empty values: rate %v codes %v latency %q; want 0.5, the default codes, none", *got.FaultRate, *got.FaultCodes, *got.Latency)
	}
	send(http.MethodPut, `{"latency":"10ms"}`)
	if got := h.faultsNow(); *got.FaultRate != 0 || *got.Latency != "10ms" {
		t.Errorf("after PUT: rate %v latency %q; want 0 and 10ms", *got.FaultRate, *got.Latency)
	}
	send(http.MethodDelete, "")
	if got := h.faultsNow(); *got.FaultRate != 0 || *got.Latency != "" || *got.RateLimit != "" || *got.Remaining != 0 {
		t.Errorf("after DELETE: %+v", got)
	}
	res := h.do(http.MethodPatch, "/_admin/faults", jsonHeader(), strings.NewReader(`{"faultRate":1,"operations":["listConnectors","noSuchOperation"]}`))
	assertError(t, res, 400, "Request_BadRequest", "")
	if got := targets(decodeError(t, res.body)); !slices.Equal(got, []string{"/operations/1"}) {
		t.Errorf("an unknown operation: targets %v, want [/operations/1]", got)
	}
	if got := h.faultsNow(); *got.FaultRate != 0 {
		t.Errorf("a refused PATCH changed the settings: %+v", got)
	}

	for _, tc := range []struct {
		name, query string
		faulted     bool
	}{
		{"everything", "", false},
		{"everything, keeping the faults", "?keepFaults=true", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			send(http.MethodPatch, `{"faultRate":1,"faultCodes":[503]}`)
			if res := h.do(http.MethodPost, "/_admin/reset"+tc.query, authed(), nil); res.status != 204 {
				t.Fatalf("reset: %d %s", res.status, res.body)
			}
			next := h.add(uuid.NewString(), validBody)
			if faulted := next.status == 503; faulted != tc.faulted {
				t.Errorf("the add after the reset: %d; want a fault: %v", next.status, tc.faulted)
			}
			send(http.MethodDelete, "")
		})
	}
}

// TestScopedFaults: a fault's scope names operations, an application or
// group, and how many more requests it lasts.
func TestScopedFaults(t *testing.T) {
	h := newHarness(t, server.Config{})
	app, other := uuid.NewString(), uuid.NewString()
	h.do(http.MethodPatch, "/_admin/faults", jsonHeader(), strings.NewReader(
		`{"faultRate":1,"faultCodes":[503],"operations":["addConnectorGroupMember"],"targetId":"`+strings.ToUpper(app)+`","remaining":2}`))
	if res := h.add(other, validBody); res.status != 204 {
		t.Errorf("an add to another application: %d, want 204 (out of scope)", res.status)
	}
	if res := h.do(http.MethodGet, listPath(app), authed(), nil); res.status != 200 {
		t.Errorf("a listing of the application: %d, want 200 (another operation)", res.status)
	}
	for i := range 2 {
		assertError(t, h.add(app, validBody), 503, "ServiceUnavailable", "")
		if got := *h.faultsNow().Remaining; got != int64(1-i) {
			t.Errorf("after fault %d: remaining %d, want %d", i+1, got, 1-i)
		}
	}
	if res := h.add(app, validBody); res.status != 204 {
		t.Errorf("the third add in scope: %d, want 204 (the scope had 2)", res.status)
	}
	if got := h.faultsNow(); *got.FaultRate != 0 || len(*got.Operations) != 0 || *got.TargetID != "" {
		t.Errorf("after the last remaining request: %+v; want every setting off", got)
	}
}

var metricLine = regexp.MustCompile(`(?m)^(connector_mock_\w+)(\{[^}]*\})? (\S+)$`)

func (h *harness) metrics() map[string]float64 {
	h.t.Helper()
	res := h.do(http.MethodGet, "/metrics", nil, nil)
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") {
		h.t.Fatalf("GET /metrics: %d %s", res.status, res.header.Get("Content-Type"))
	}
	out := map[string]float64{}
	for _, m := range metricLine.FindAllStringSubmatch(string(res.body), -1) {
		v, _ := strconv.ParseFloat(m[3], 64)
		out[m[1]+m[2]] = v
	}
	return out
}

// TestMetricsAnswer is a scrape as Prometheus sees it: the text format
// whatever the Accept (the only one the spec lists), whole with its length,
// the families sorted by name as promhttp writes them, the server's own and
// the process's; and scrapes at once each get a whole answer.
func TestMetricsAnswer(t *testing.T) {
	h := newHarness(t, server.Config{})
	h.add(testApp, validBody)
	protobuf := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
	for _, accept := range []string{"", "text/plain", protobuf, "application/openmetrics-text; version=1.0.0"} {
		t.Run("Accept="+accept, func(t *testing.T) {
			res := h.do(http.MethodGet, "/metrics", http.Header{"Accept": {accept}}, nil)
			if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain; version=0.0.4") {
				t.Fatalf("%d %q, want 200 in the text format", res.status, res.header.Get("Content-Type"))
			}
			if got := res.header.Get("Content-Length"); got != strconv.Itoa(len(res.body)) {
				t.Errorf("Content-Length %q for a body of %d bytes", got, len(res.body))
			}
			checkScrape(t, res.body)
		})
	}
	t.Run("at once", func(t *testing.T) {
		bodies := make([][]byte, 16)
		var wg sync.WaitGroup
		for i := range bodies {
			wg.Go(func() { bodies[i] = h.do(http.MethodGet, "/metrics", nil, nil).body })
		}
		wg.Wait()
		for _, b := range bodies {
			checkScrape(t, b)
		}
	})
}

// checkScrape fails t unless body parses as the text format, its families
// sorted by name, with the server's, the Go runtime's and the process's.
func checkScrape(t *testing.T, body []byte) {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the answer does not parse: %v", err)
	}
	for _, name := range []string{"connector_mock_members", "connector_mock_requests_total", "go_goroutines", "process_start_time_seconds"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+)`).FindAllSubmatch(body, -1) {
		order = append(order, string(m[1]))
	}
	if !slices.IsSorted(order) || len(order) != len(families) {
		t.Errorf("families %v: want each once, sorted by name", order)
	}
}

func TestMetricsMove(t *testing.T) {
	h := newHarness(t, server.Config{})
	h.add(testApp, validBody)
	h.add(testApp, validBody)
	h.add(testApp, pageExample)
	h.add(testApp, validBody, "Prefer", "code=503")
	m := h.metrics()
	for series, want := range map[string]float64{
		`connector_mock_requests_total{operation="addConnectorGroupMember",status="204"}`: 2,
		`connector_mock_requests_total{operation="addConnectorGroupMember",status="400"}`: 1,
		`connector_mock_validation_failures_total{target="/status"}`:                      1,
		`connector_mock_validation_failures_total{target="/externalIp"}`:                  1,
		`connector_mock_faults_injected_total{code="503"}`:                                1,
		`connector_mock_members`: 2,
		`connector_mock_request_duration_seconds_count{operation="addConnectorGroupMember"}`: 4,
	} {
		if m[series] != want {
			t.Errorf("%s = %v, want %v", series, m[series], want)
		}
	}
	// A made-up property name per request cannot grow the series without bound.
	for i := range 100 {
		h.add(testApp, fmt.Sprintf(`{"made-up-%d":1}`, i))
	}
	targets := 0
	for series := range h.metrics() {
		if strings.HasPrefix(series, "connector_mock_validation_failures_total") {
			targets++
		}
	}
	if targets > 65 {
		t.Errorf("%d target series after 100 made-up names", targets)
	}
}

func writeSeed(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSeedFile(t *testing.T) {
	ctx := context.Background()
	app := "0f8fad5b-d9cb-469f-a165-70867728950e"
	yamlSeed := writeSeed(t, "seed.yaml", `applications:
  - id: `+app+`
    members:
      - {externalIp: 203.0.113.7, machineName: eu-01, status: active}
      - id: 72bb7735-7735-42bb-b577-bb723577bb72
        externalIp: "2001:db8::7"
        machineName: eu-02
        status: inactive
`)
	jsonSeed := writeSeed(t, "seed.json", `{"applications":[{"id":"`+app+`","members":[{"externalIp":"203.0.113.7","machineName":"eu-01","status":"active"}]}]}`)
	for _, path := range []string{yamlSeed, jsonSeed} {
		members := store.NewMemory()
		if _, err := server.Seed(ctx, members, path); err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		h := newHarness(t, server.Config{Store: members})
		if got := h.listAll(app, 0); len(got) == 0 || got[0] != "eu-01" {
			t.Errorf("%s: seeded %v", filepath.Base(path), got)
		}
	}
	for _, tc := range []struct{ content, want string }{
		{`applications: [{id: ` + app + `, members: [{externalIp: 1.2.3.4, machineName: m, status: busy}]}]`,
			`applications[0] (` + app + `) members[0]: /status: value "busy" is not one of ` + statusNames},
		{`applications: [{id: ` + app + `, members: [{machineName: m, status: active}, {externalIp: 1.2.3.4, machineName: m, status: active, colour: red}]}]`,
			`members[0]: /externalIp: property "externalIp" is required`},
		{`applications: [{id: nope, members: []}]`, `applications[0]: id "nope" is not a GUID`},
		{`apps: []`, `field apps not found`},
	} {
		_, err := server.Seed(ctx, store.NewMemory(), writeSeed(t, "bad.yaml", tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n%v\nwant it to say %q", tc.content, err, tc.want)
		}
	}
	// One application in two entries: no member is lost (ids derived from
	// the position among the application's members, not within an entry),
	// and a member may be added by reference to a connector added before.
	split := writeSeed(t, "split.yaml", `applications:
  - id: `+app+`
    members: [{externalIp: 203.0.113.1, machineName: first, status: active}]
  - id: 7c9e6679-7425-40de-944b-e07fc1f90ae7
    members: [{externalIp: 203.0.113.2, machineName: second, status: active, id: 72bb7735-7735-42bb-b577-bb723577bb72}]
  - id: `+app+`
    members:
      - {externalIp: 203.0.113.3, machineName: third, status: active}
      - {'@odata.id': /onPremisesPublishingProfiles/applicationProxy/connectors/72bb7735-7735-42bb-b577-bb723577bb72}
`)
	members := store.NewMemory()
	if got, err := server.Seed(ctx, members, split); err != nil || got.Added != 4 {
		t.Fatalf("one application in two entries: %+v, %v", got, err)
	}
	if got := newHarness(t, server.Config{Store: members}).listAll(app, 0); strings.Join(got, ",") != "first,third,second" {
		t.Errorf("one application in two entries seeded %v, want first, third, second", got)
	}
	// Connectors registered in no group, as installing an agent does; a
	// member may be a reference to one. Into a state file, and back.
	agents := writeSeed(t, "agents.yaml", `connectors:
  - {id: 33333333-3333-4333-8333-333333333333, externalIp: 198.51.100.3, machineName: agent-3, status: inactive}
  - {externalIp: 198.51.100.4, machineName: agent-4, status: active}
applications:
  - id: `+app+`
    members: [{'@odata.id': 'https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/33333333-3333-4333-8333-333333333333'}]
`)
	agentState := filepath.Join(t.TempDir(), "agents.db")
	durable, err := store.OpenDurable(agentState)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := server.Seed(ctx, durable, agents); err != nil || got != (server.SeedResult{Registered: 2, Added: 1}) {
		t.Errorf("seeding connectors: %+v, %v", got, err)
	}
	_ = durable.Close()
	if durable, err = store.OpenDurable(agentState); err != nil {
		t.Fatal(err)
	}
	page, _ := durable.Connectors(ctx, 0, 10)
	if len(page.Members) != 2 || page.Members[0].MachineName != "agent-3" || page.Members[1].MachineName != "agent-4" {
		t.Errorf("the connectors seeded, after reopening: %+v", page.Members)
	}
	if m, err := durable.Get(ctx, uuid.MustParse(app), uuid.MustParse("33333333-3333-4333-8333-333333333333")); err != nil || m.Status != "inactive" {
		t.Errorf("the member by reference: %+v, %v", m, err)
	}
	_ = durable.Close()
	if _, err := server.Seed(ctx, store.NewMemory(), writeSeed(t, "ref.yaml", `connectors: [{'@odata.id': /onPremisesPublishingProfiles/applicationProxy/connectors/33333333-3333-4333-8333-333333333333}]`)); err == nil ||
		!strings.Contains(err.Error(), "connectors[0]: a connector, with its properties, not a reference") {
		t.Errorf("a reference among the connectors: %v", err)
	}

	// What is not one seed document is refused before anything is stored.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(huge, nil, 0o600); err != nil || os.Truncate(huge, 33<<20) != nil {
		t.Fatal("cannot make a 33 MiB file")
	}
	for _, tc := range []struct{ path, want string }{
		{writeSeed(t, "two.yaml", "applications: []\n---\napplications: [{id: "+app+", members: []}]\n"), "more than one YAML document"},
		{writeSeed(t, "two.json", `{"applications":[]} {"applications":[]}`), "more than one YAML document or JSON value"},
		{fifo, "is not a regular file"},
		{"/dev/zero", "is not a regular file"},
		{huge, "is larger than 32 MiB"},
		{writeSeed(t, "dangling.yaml", `applications: [{id: `+app+`, members: [{'@odata.id': /onPremisesPublishingProfiles/applicationProxy/connectors/11111111-2222-4333-8444-555555555555}]}]`),
			"names a connector neither the store nor the file before it holds"},
	} {
		members := store.NewMemory()
		_, err := server.Seed(ctx, members, tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to say %q", filepath.Base(tc.path), err, tc.want)
		}
	}
	// An ended context stops seeding.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := server.Seed(cancelled, store.NewMemory(), split); !errors.Is(err, context.Canceled) {
		t.Errorf("seeding with an ended context: %v", err)
	}

	// Seeding a state file that has the members already adds nothing twice.
	state := filepath.Join(t.TempDir(), "state.db")
	for round, want := range []server.SeedResult{{Added: 2}, {AlreadyThere: 2}} {
		members, err := store.OpenDurable(state)
		if err != nil {
			t.Fatal(err)
		}
		got, err := server.Seed(ctx, members, yamlSeed)
		_ = members.Close()
		if err != nil || got != want {
			t.Errorf("round %d: %+v, %v; want %+v", round, got, err, want)
		}
	}
}

// TestApplicationsArePaged: /_admin/applications answers a page at a time,
// in the order the groups were created, with the total on every page and
// next until the last; a page passes over at most store.MaxApplicationScan
// empty groups, so 5,000 of them before the first application make pages
// cut short (with next), never one that walks them all.
func TestApplicationsArePaged(t *testing.T) {
	members := store.NewMemory()
	h := newHarness(t, server.Config{Store: members})
	ctx := context.Background()
	var want []string
	add := func() {
		app := uuid.NewString()
		h.addMember(app, "m-"+app[:8])
		want = append(want, app)
	}
	add()
	for i := range 5000 {
		if _, err := members.Do(ctx, store.Op{Kind: store.OpCreateGroup, Group: uuid.New(), GroupDoc: generated.ConnectorGroupCreate{Name: generated.ConnectorGroupName(fmt.Sprint("empty-", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		add()
	}
	var got []string
	pages, next := 0, "/_admin/applications?$top=2"
	for next != "" {
		res := h.do(http.MethodGet, next, authed(), nil)
		var list admin.ApplicationList
		if err := json.Unmarshal(res.body, &list); err != nil || res.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, res.status, res.body)
		}
		if len(list.Value) > 2 || list.Total != 5 {
			t.Fatalf("GET %s: %d applications of %d, want at most 2 of 5", next, len(list.Value), list.Total)
		}
		for _, a := range list.Value {
			got = append(got, a.ID.String())
		}
		next = ""
		if list.Next != nil {
			next = *list.Next
		}
		if pages++; pages > 10 {
			t.Fatal("more than 10 pages for 5 applications")
		}
	}
	// 1 (cut short by the empty groups after it), then 2 and 2.
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("%d pages listed %v, want 3 pages of %v", pages, got, want)
	}
	res := h.do(http.MethodGet, "/_admin/applications?$top=0", authed(), nil)
	assertError(t, res, 400, "Request_BadRequest", "")
	if got := targets(decodeError(t, res.body)); !slices.Equal(got, []string{"$top"}) {
		t.Errorf("$top=0: targets %v", got)
	}
}
