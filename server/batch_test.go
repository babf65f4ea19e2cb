package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
	"github.com/connector-group/members-api/server/journal"
)

// batchAnswer is a $batch's answer, its bodies kept as sent.
type batchAnswer struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func (h *harness) batch(prefix, body string) (result, batchAnswer) {
	h.t.Helper()
	res := h.do(http.MethodPost, prefix+"/$batch", jsonHeader(), strings.NewReader(body))
	var a batchAnswer
	if res.status == http.StatusOK {
		if err := json.Unmarshal(res.body, &a); err != nil {
			h.t.Fatalf("the batch's answer: %v\n%s", err, res.body)
		}
	}
	return res, a
}

// TestBatchOfTwenty: 20 requests in one batch, as the Graph SDKs' batch
// helpers send them: 17 adds (one an invalid body, answered 400 in the
// batch), a read, a list, and a request depending on the invalid add (424);
// each journalled as if sent alone, tagged with the batch's request-id.
func TestBatchOfTwenty(t *testing.T) {
	h := newHarness(t, server.Config{})
	app := uuid.NewString()
	read := uuid.NewString()
	var reqs []string
	for i := range 17 {
		id, status := uuid.NewString(), "active"
		if i == 0 {
			id = read
		}
		if i == 5 {
			status = "busy"
		}
		reqs = append(reqs, fmt.Sprintf(`{"id":"add-%d","method":"POST","url":"/applications/%s/connectorGroup/members/$ref",
			"headers":{"Content-Type":"application/json"},"body":{"id":"%s","externalIp":"192.0.2.%d","machineName":"m-%02d","status":"%s"}}`,
			i, app, id, i+1, i, status))
	}
	reqs = append(reqs,
		fmt.Sprintf(`{"id":"read","method":"GET","url":"/applications/%s/connectorGroup/members/%s","dependsOn":["add-0"]}`, app, read),
		fmt.Sprintf(`{"id":"list","method":"GET","url":"applications/%s/connectorGroup/members?$top=3&$select=machineName","dependsOn":["ADD-16"]}`, app),
		fmt.Sprintf(`{"id":"after-the-bad-one","method":"GET","url":"/applications/%s/connectorGroup/members/$count","dependsOn":["add-5","read"]}`, app))
	res, a := h.batch("/beta", `{"requests":[`+strings.Join(reqs, ",")+`]}`)
	if res.status != http.StatusOK || len(a.Responses) != 20 {
		t.Fatalf("the batch: %d %s", res.status, res.body)
	}
	byID := map[string]int{}
	for i, r := range a.Responses {
		byID[r.ID] = i
	}
	for i := range 17 {
		r := a.Responses[byID[fmt.Sprintf("add-%d", i)]]
		want := http.StatusNoContent
		if i == 5 {
			want = http.StatusBadRequest
		}
		if r.Status != want {
			t.Errorf("add-%d: %d %s, want %d", i, r.Status, r.Body, want)
		}
		if i == 0 && !strings.HasPrefix(r.Headers["Location"], "http://127.0.0.1:8080/beta/applications/") {
			t.Errorf("add-0's Location %q: the batch's version and host", r.Headers["Location"])
		}
		if i == 5 {
			e := decodeError(t, r.Body)
			if e.Error.Target == nil || *e.Error.Target != "/status" {
				t.Errorf("the invalid add's answer: %s", r.Body)
			}
		}
	}
	if r := a.Responses[byID["read"]]; r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"machineName":"m-00"`) {
		t.Errorf("read: %d %s", r.Status, r.Body)
	}
	if r := a.Responses[byID["list"]]; r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), `{"@odata.nextLink":"http://127.0.0.1:8080/beta/applications/`) {
		t.Errorf("list: %d %s", r.Status, r.Body)
	}
	if r := a.Responses[byID["after-the-bad-one"]]; r.Status != http.StatusFailedDependency || !strings.Contains(string(r.Body), `depends on request \"add-5\"`) {
		t.Errorf("the dependent of the invalid add: %d %s", r.Status, r.Body)
	}

	// The journal: the batch and its 19 requests that ran (not the 424), each
	// tagged with the batch's request-id.
	batchID := res.header.Get("request-id")
	tagged := 0
	for _, e := range h.handler.(*server.Server).Requests(journal.Filter{}) {
		if e.Headers["Batch-Request-Id"] == batchID {
			tagged++
		}
	}
	if tagged != 19 {
		t.Errorf("%d journal entries tagged with the batch's request-id %s, want 19", tagged, batchID)
	}
}

func TestBatchRefusals(t *testing.T) {
	h := newHarness(t, server.Config{})
	get := func(id string, extra string) string {
		return fmt.Sprintf(`{"id":%q,"method":"GET","url":"/healthz"%s}`, id, extra)
	}
	var many, headers []string
	for i := range 21 {
		many = append(many, get(fmt.Sprint(i), ""))
	}
	for i := range 65 {
		headers = append(headers, fmt.Sprintf(`"X-H%d":"v"`, i))
	}
	for name, tc := range map[string]struct{ body, target string }{
		"21 requests":       {`{"requests":[` + strings.Join(many, ",") + `]}`, "/requests"},
		"an id twice":       {`{"requests":[` + get("a", "") + `,` + get("A", "") + `]}`, "/requests/1/id"},
		"an unknown depend": {`{"requests":[` + get("a", `,"dependsOn":["b"]`) + `]}`, "/requests/0/dependsOn/0"},
		"a cycle":           {`{"requests":[` + get("a", `,"dependsOn":["b"]`) + `,` + get("b", `,"dependsOn":["a"]`) + `]}`, "/requests"},
		"a method":          {`{"requests":[{"id":"a","method":"TRACE","url":"/healthz"}]}`, "/requests/0/method"},
		"a body not object": {`{"requests":[{"id":"a","method":"POST","url":"/x","body":"text"}]}`, "/requests/0/body"},
		"a header too long": {`{"requests":[{"id":"a","method":"GET","url":"/healthz","headers":{"Prefer":"` + strings.Repeat("x", 2049) + `"}}]}`, "/requests/0/headers/Prefer"},
		"a header not text": {`{"requests":[{"id":"a","method":"GET","url":"/healthz","headers":{"Prefer":1}}]}`, "/requests/0/headers/Prefer"},
		"65 headers":        {`{"requests":[` + get("a", `,"headers":{`+strings.Join(headers, ",")+`}`) + `]}`, "/requests/0/headers"},
	} {
		res, _ := h.batch("", tc.body)
		assertError(t, res, http.StatusBadRequest, "Request_BadRequest", "")
		if e := decodeError(t, res.body); e.Error.Target == nil || *e.Error.Target != tc.target {
			t.Errorf("%s: target %v, want %s: %s", name, e.Error.Target, tc.target, res.body)
		}
	}
	// A batch in a batch, and a url with a host, are answered in the batch.
	_, a := h.batch("/v1.0", `{"requests":[{"id":"a","method":"POST","url":"/$batch","headers":{"Content-Type":"application/json"},"body":{"requests":[]}},
		{"id":"b","method":"GET","url":"//evil.example/healthz"},
		{"id":"c","method":"POST","url":"/beta/%24batch","headers":{"Content-Type":"application/json"},"body":{"requests":[]}}]}`)
	if len(a.Responses) != 3 {
		t.Fatalf("%d answers, want 3", len(a.Responses))
	}
	for _, r := range a.Responses {
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", r.ID, r.Status, r.Body)
		}
	}
}

// TestBatchedRequestsMeetFaultsAlone: faults and the token apply to each
// request of a batch as to a request sent alone.
func TestBatchedRequestsMeetFaultsAlone(t *testing.T) {
	h := newHarness(t, server.Config{Faults: faults.Settings{FaultRate: 1, FaultCodes: faults.Codes{503}, RetryAfter: 1e9}})
	res, a := h.batch("", fmt.Sprintf(`{"requests":[{"id":"1","method":"GET","url":"/applications/%s/connectorGroup/members"},{"id":"2","method":"GET","url":"/healthz"}]}`, testApp))
	if res.status != http.StatusOK || a.Responses[0].Status != http.StatusServiceUnavailable || a.Responses[0].Headers["Retry-After"] != "1" ||
		a.Responses[1].Status != http.StatusOK {
		t.Errorf("faulted batch: %d %+v", res.status, a)
	}
}
