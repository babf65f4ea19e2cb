package journal

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/internal/reqcheck"
)

func request(i int, app string, status int) *Request {
	return &Request{
		Time: time.Unix(1_700_000_000+int64(i), 0), ID: uuid.New(), ClientRequestID: "cid", Method: http.MethodPost,
		Path: "/applications/" + app + "/connectorGroup/members/$ref",
		Header: http.Header{
			"Client-Request-Id": {"cid"}, "User-Agent": {"test/1"}, "Prefer": {"return=minimal"},
			"Authorization": {"Bearer secret"}, http.CanonicalHeaderKey("SdkVersion"): {"graph-go/1.4.0"},
		},
		Operation: "addConnectorGroupMember", ApplicationID: app, Status: status,
		Violations: []reqcheck.Violation{{Target: "/status", Message: "m"}}, Fault: 0,
		Duration: 1500 * time.Microsecond, Body: []byte(`{"status":"String"}`),
	}
}

// TestRoundTrip: what Add packs, List gives back, but the Authorization header.
func TestRoundTrip(t *testing.T) {
	j := New(10)
	r := request(1, "a", 400)
	j.Add(r)
	got := j.List(Filter{})
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	e := got[0]
	if !e.Time.Equal(r.Time) || e.RequestID != r.ID || e.ClientRequestID != "cid" || e.Method != "POST" ||
		e.Path != r.Path || e.Operation != r.Operation || e.ApplicationID != "a" || e.Status != 400 ||
		e.UserAgent != "test/1" || e.Duration != r.Duration || e.Body != string(r.Body) ||
		len(e.Targets) != 1 || e.Targets[0] != "/status" || e.Headers["Prefer"] != "return=minimal" {
		t.Errorf("entry %+v from %+v", e, r)
	}
	if _, ok := e.Headers["Authorization"]; ok {
		t.Error("the Authorization header was kept")
	}
	// As admin.yaml and the SDKs name it, not as net/http files it (Sdkversion).
	if e.Headers["SdkVersion"] != "graph-go/1.4.0" {
		t.Errorf("headers %v, want SdkVersion", e.Headers)
	}
}

// TestRingAndFilter: the journal keeps the newest size entries, lists them
// newest first, filters, and Clear empties it.
func TestRingAndFilter(t *testing.T) {
	j := New(3)
	for i := range 5 {
		app, status := "a", 204
		if i%2 == 1 {
			app, status = "b", 400
		}
		j.Add(request(i, app, status))
	}
	all := j.List(Filter{})
	if len(all) != 3 || all[0].Time.Unix() != 1_700_000_004 || all[2].Time.Unix() != 1_700_000_002 {
		t.Fatalf("kept %d, newest %v", len(all), all)
	}
	if got := j.List(Filter{ApplicationID: "B"}); len(got) != 1 || got[0].Status != 400 {
		t.Errorf("application b (any case): %v", got)
	}
	if got := j.List(Filter{Status: 204, Top: 1}); len(got) != 1 || got[0].Time.Unix() != 1_700_000_004 {
		t.Errorf("status 204, top 1: %v", got)
	}
	none := ""
	if got := j.List(Filter{Operation: &none}); len(got) != 0 {
		t.Errorf("operation \"\": %v", got)
	}
	j.Clear()
	if got := j.List(Filter{}); len(got) != 0 {
		t.Errorf("after Clear: %v", got)
	}
	off := New(0)
	off.Add(request(0, "a", 204))
	if off.Enabled() || len(off.List(Filter{})) != 0 {
		t.Error("a journal of size 0 kept an entry")
	}
}

// TestBounded: every field is cut to its bound, as valid UTF-8.
func TestBounded(t *testing.T) {
	j := New(1)
	r := request(0, "a", 400)
	r.Body = []byte(strings.Repeat("x", 10<<10))
	r.Path = "/" + strings.Repeat("é", 4<<10)
	r.Header.Set("User-Agent", strings.Repeat("u", 1<<10))
	r.Violations = make([]reqcheck.Violation, 50)
	j.Add(r)
	e := j.List(Filter{})[0]
	if len(e.Body) != journalBody || len(e.Path) > journalPath || len(e.UserAgent) != journalText || len(e.Targets) != journalTargets {
		t.Errorf("body %d, path %d, user agent %d, targets %d", len(e.Body), len(e.Path), len(e.UserAgent), len(e.Targets))
	}
	if !strings.HasSuffix(e.Path, "é") {
		t.Error("the path was cut inside a character")
	}
}
