package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// The fuzz targets drive the whole handler stack, middleware included. On
// every input: no panic, no 5xx, a response the spec describes, and a 2xx
// that stored exactly what was sent. Seeds: f.Add below and testdata/fuzz/.

// fuzzHarness is a harness whose requests may be built from arbitrary bytes.
func fuzzHarness(f *testing.F) (http.Handler, func(t *testing.T, req *http.Request) result) {
	h, err := server.New(server.Config{})
	if err != nil {
		f.Fatal(err)
	}
	return h, func(t *testing.T, req *http.Request) result {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if res.status >= 500 {
			t.Fatalf("%s %s: %d\n%s", req.Method, req.URL, res.status, res.body)
		}
		specChecker(t).MustCheck(t, req, res.status, res.header, res.body)
		return res
	}
}

func FuzzAddMember(f *testing.F) {
	f.Add([]byte(pageExample), "application/json", "")
	f.Add([]byte(validBody), "application/json", "return=representation")
	f.Add([]byte(validBody), "application/json; charset=utf-8", "return=minimal")
	f.Add([]byte(`{"id":"72bb7735-7735-72bb-3577-bb723577bb72","externalIp":"::1","machineName":"m","status":"inactive"}`), "Application/JSON", "return=representation, respond-async")
	f.Add([]byte(`[]`), "text/plain", "")
	_, do := fuzzHarness(f)
	app := uuid.NewString()
	f.Fuzz(func(t *testing.T, body []byte, contentType, prefer string) {
		req := newRequest(http.MethodPost, addPath(app), strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer fuzz")
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		if prefer != "" {
			req.Header["Prefer"] = []string{prefer}
		}
		res := do(t, req)
		if res.status >= 300 {
			return
		}
		// The request was valid: what is stored must be exactly what was sent.
		var sent map[string]any
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("accepted a body that is not a JSON object: %q", body)
		}
		loc := res.header.Get("Location")
		get := newRequest(http.MethodGet, strings.TrimPrefix(loc, "http://127.0.0.1:8080"), nil)
		get.Header.Set("Authorization", "Bearer fuzz")
		stored := do(t, get)
		if stored.status != http.StatusOK {
			t.Fatalf("GET %s after a %d: %d", loc, res.status, stored.status)
		}
		var m generated.Connector
		if err := json.Unmarshal(stored.body, &m); err != nil {
			t.Fatal(err)
		}
		if m.ExternalIP != sent["externalIp"] || m.MachineName != sent["machineName"] || string(m.Status) != sent["status"] {
			t.Fatalf("sent %q, stored %+v", body, m)
		}
		if id, ok := sent["id"].(string); ok && !strings.EqualFold(m.ID.String(), id) {
			t.Fatalf("sent id %q, stored %v", id, m.ID)
		}
		if res.status == http.StatusCreated && string(res.body) != string(stored.body) {
			t.Fatalf("the 201 body %s differs from the stored member %s", res.body, stored.body)
		}
		// Leave the group as it was, so the fuzzer's memory stays flat.
		del := newRequest(http.MethodDelete, strings.TrimPrefix(loc, "http://127.0.0.1:8080")+"/$ref", nil)
		del.Header.Set("Authorization", "Bearer fuzz")
		if res := do(t, del); res.status != http.StatusNoContent {
			t.Fatalf("removing the added member: %d", res.status)
		}
	})
}

func FuzzListAndGet(f *testing.F) {
	f.Add(testApp, "", "", "")
	f.Add(testApp, "72bb7735-7735-42bb-b577-bb723577bb72", "10", "")
	f.Add("not-a-guid", "42", "0", "abc")
	f.Add(testApp, "", "1000", "AQAAAAAAAAAB")
	f.Add(testApp, "", "-1", "")
	f.Add("", "", "ten", "%%%")
	h, do := fuzzHarness(f)
	// A few members, so that gets and pages find something.
	for i := range 5 {
		req := newRequest(http.MethodPost, addPath(testApp), strings.NewReader(withField("machineName", `"m`+string(rune('0'+i))+`"`)))
		req.Header.Set("Authorization", "Bearer fuzz")
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	f.Fuzz(func(t *testing.T, app, connectorID, top, skiptoken string) {
		base := "/applications/" + url.PathEscape(app) + "/connectorGroup/members"
		query := url.Values{}
		if top != "" {
			query.Set("$top", top)
		}
		if skiptoken != "" {
			query.Set("$skiptoken", skiptoken)
		}
		targets := []string{base + "?" + query.Encode()}
		if connectorID != "" {
			targets = append(targets, base+"/"+url.PathEscape(connectorID), base+"/"+url.PathEscape(connectorID)+"/$ref")
		}
		for i, target := range targets {
			method := http.MethodGet
			if i == 2 {
				method = http.MethodDelete
			}
			req, err := http.NewRequest(method, target, nil)
			if err != nil {
				t.Skip(err)
			}
			req.Header.Set("Authorization", "Bearer fuzz")
			res := do(t, req)
			if method == http.MethodDelete && res.status == http.StatusNoContent {
				// Put it back, so the other inputs keep finding members.
				id, _ := uuid.Parse(connectorID)
				add := newRequest(http.MethodPost, addPath(app), strings.NewReader(withField("id", `"`+id.String()+`"`)))
				add.Header.Set("Authorization", "Bearer fuzz")
				add.Header.Set("Content-Type", "application/json")
				h.ServeHTTP(httptest.NewRecorder(), add)
			}
		}
	})
}
