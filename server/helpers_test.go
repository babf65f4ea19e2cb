package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/spectest"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/store"
)

const (
	testApp   = "0f8fad5b-d9cb-469f-a165-70867728950e"
	validBody = `{"externalIp":"203.0.113.7","machineName":"connector-eu-01","status":"active"}`
	// pageExample is the original page's example request, placeholders and all.
	pageExample = `{"@odata.type": "#microsoft.graph.connector", "externalIp": "String", "machineName": "String", "status": "String"}`
)

func addPath(app string) string        { return "/applications/" + app + "/connectorGroup/members/$ref" }
func listPath(app string) string       { return "/applications/" + app + "/connectorGroup/members" }
func memberPath(app, id string) string { return listPath(app) + "/" + id }

var (
	checkerOnce sync.Once
	checker     *spectest.Checker
	checkerErr  error
)

func specChecker(t testing.TB) *spectest.Checker {
	t.Helper()
	checkerOnce.Do(func() { checker, checkerErr = spectest.New() })
	if checkerErr != nil {
		t.Fatalf("loading the spec: %v", checkerErr)
	}
	return checker
}

// harness is a server under test, driven in process.
type harness struct {
	t       testing.TB
	handler http.Handler
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, cfg server.Config) *harness {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	h, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	return &harness{t: t, handler: h, logs: logs}
}

// result is a response as a test sees it.
type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and checks the response against the spec.
func (h *harness) do(method, target string, header http.Header, body io.Reader) result {
	h.t.Helper()
	req := newRequest(method, target, body)
	for k, v := range header {
		req.Header[k] = v
	}
	return h.send(req)
}

// send serves req and checks the answer against the spec.
func (h *harness) send(req *http.Request) result {
	h.t.Helper()
	method := req.Method
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	res := result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if method == http.MethodHead {
		res.body = nil // net/http's server sends no body for a HEAD; the recorder keeps what was written
	}
	specChecker(h.t).MustCheck(h.t, req, res.status, res.header, res.body)
	return res
}

func authed(extra ...string) http.Header {
	h := http.Header{"Authorization": {"Bearer test-token"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

func jsonHeader(extra ...string) http.Header {
	return authed(append([]string{"Content-Type", "application/json"}, extra...)...)
}

func (h *harness) add(app, body string, extra ...string) result {
	h.t.Helper()
	return h.do(http.MethodPost, addPath(app), jsonHeader(extra...), strings.NewReader(body))
}

// addMember adds a member with a fresh id and returns the id.
func (h *harness) addMember(app, name string) string {
	h.t.Helper()
	id := uuid.NewString()
	res := h.add(app, `{"id":"`+id+`","externalIp":"192.0.2.1","machineName":"`+name+`","status":"active"}`)
	if res.status != http.StatusNoContent {
		h.t.Fatalf("adding %s: %d %s", name, res.status, res.body)
	}
	return id
}

func (h *harness) list(target string) generated.ConnectorCollection {
	h.t.Helper()
	res := h.do(http.MethodGet, target, authed(), nil)
	if res.status != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s", target, res.status, res.body)
	}
	var page generated.ConnectorCollection
	if err := json.Unmarshal(res.body, &page); err != nil {
		h.t.Fatalf("decoding the page: %v", err)
	}
	return page
}

// listAll follows @odata.nextLink from the first page and returns the machine names in order.
func (h *harness) listAll(app string, top int) []string {
	h.t.Helper()
	target := listPath(app)
	if top > 0 {
		target += "?$top=" + strconv.Itoa(top)
	}
	return h.walkFrom(target)
}

// walkFrom lists from target on, following @odata.nextLink, and returns the machine names in order.
func (h *harness) walkFrom(target string) []string {
	h.t.Helper()
	var names []string
	for target != "" {
		page := h.list(target)
		for _, m := range page.Value {
			names = append(names, m.MachineName)
		}
		target = ""
		if page.OdataNextLink != nil {
			target = *page.OdataNextLink
		}
	}
	return names
}

// decodeError reads the error envelope, failing the test if the body is not one.
func decodeError(t testing.TB, body []byte) generated.ODataError {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var e generated.ODataError
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("the body is not the error envelope: %v\n%s", err, body)
	}
	return e
}

func targets(e generated.ODataError) []string {
	if e.Error.Details == nil {
		return nil
	}
	var out []string
	for _, d := range *e.Error.Details {
		if d.Target != nil {
			out = append(out, *d.Target)
		} else {
			out = append(out, "")
		}
	}
	return out
}

// storeKinds are the MemberStores a test can run against, each opened fresh.
var storeKinds = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"memory", func(testing.TB) store.Store { return store.NewMemory() }},
	{"durable", func(tb testing.TB) store.Store {
		s, err := store.OpenDurable(filepath.Join(tb.TempDir(), "state.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

// newRequest is httptest.NewRequest addressed as a client of the mock
// addresses it, to 127.0.0.1:8080, rather than to httptest's example.com,
// a name the mock does not answer (hosts.go).
func newRequest(method, target string, body io.Reader) *http.Request {
	req := httptest.NewRequest(method, target, body)
	if req.Host == "example.com" {
		req.Host = "127.0.0.1:8080"
	}
	return req
}

// measuresCost skips t, a test that measures a cost, under the race
// detector (see raceEnabled).
func measuresCost(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("measures a cost: run without -race (make test does)")
	}
}
