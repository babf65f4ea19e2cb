package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/server"
)

// FuzzFastPathAgreesWithKin sends each POST to a server with the fast path
// and to one that leaves everything to kin-openapi, and requires the same
// answer: status, and for errors the code, message, target and every detail.
func FuzzFastPathAgreesWithKin(f *testing.F) {
	for _, seed := range []string{validBody, pageExample, `{}`, `{"externalIp":"::1","machineName":"","status":"x","STATUS":"y"}`,
		withField("id", `"72bb7735-7735-72bb-3577-bb723577bb72"`), withField("id", `"{72bb7735-7735-72bb-3577-bb723577bb72}"`),
		withField("machineName", `"`+strings.Repeat("é", 256)+`"`), withField("externalIp", `"1.2.3.4 "`), `{"status":"active","status":"active"}`} {
		f.Add([]byte(seed), "return=representation", testApp)
	}
	fast, err := server.New(server.Config{})
	if err != nil {
		f.Fatal(err)
	}
	kin, err := server.NewKinOnly(server.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, prefer, app string) {
		send := func(h http.Handler) result {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
			req.URL.Path = addPath(app)
			req.Header.Set("Authorization", "Bearer fuzz")
			req.Header.Set("Content-Type", "application/json")
			req.Header["Prefer"] = []string{prefer}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		}
		a, b := send(fast), send(kin)
		if a.status != b.status {
			t.Fatalf("fast path %d, kin-openapi %d for %q\nfast: %s\nkin:  %s", a.status, b.status, body, a.body, b.body)
		}
		if a.status >= 300 {
			ea, eb := comparableError(t, a.body), comparableError(t, b.body)
			if !reflect.DeepEqual(ea, eb) {
				t.Fatalf("for %q the two paths differ:\nfast: %+v\nkin:  %+v", body, ea, eb)
			}
			return
		}
		if a.status == http.StatusCreated {
			var ma, mb generated.Connector
			_ = json.Unmarshal(a.body, &ma)
			_ = json.Unmarshal(b.body, &mb)
			if ma.ID != nil && mb.ID != nil && strings.Contains(string(body), ma.ID.String()) == false {
				mb.ID = ma.ID // both assigned their own
			}
			if !reflect.DeepEqual(ma, mb) {
				t.Fatalf("for %q the two paths stored differently:\nfast: %+v\nkin:  %+v", body, ma, mb)
			}
		}
	})
}

// comparableError is an error body without what differs from request to request.
func comparableError(t *testing.T, body []byte) generated.MainError {
	t.Helper()
	var e generated.ODataError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an error envelope: %s", body)
	}
	e.Error.InnerError = generated.InnerError{}
	return e.Error
}

// TestErrorTableWithoutFastPath runs the error table against kin-openapi alone.
func TestErrorTableWithoutFastPath(t *testing.T) {
	h, err := server.NewKinOnly(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	runErrorTable(t, &harness{t: t, handler: h, logs: &syncBuffer{}})
}
