package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/connector-group/members-api/generated"
	"github.com/connector-group/members-api/internal/reqcheck"
)

// JSON batching (POST /$batch), as Graph's "Combine multiple HTTP requests
// using JSON batching" documents it: each request of a batch goes through
// the whole server (Host check, token, faults and throttling, the generated
// validator, the handler, the log, the metrics and the journal) as if it
// had been sent alone, with the batch's Authorization; the journal tags it
// with the batch's request-id (its Batch-Request-Id). Requests run one at a
// time, in their order but for dependsOn, which runs a request after those
// it names, and answers 424 when one of them did not succeed.

// headerBatchRequestID carries, on a request of a batch, the batch's
// request-id, which the journal keeps.
const headerBatchRequestID = "Batch-Request-Id"

// Batch answers a JSON batch.
func (h *handlers) Batch(c echo.Context, _ generated.BatchParams) error {
	body, err := bodyOf[generated.BatchRequestContent](c)
	if err != nil {
		return err
	}
	reqs := body.Requests
	order, err := batchOrder(reqs)
	if err != nil {
		return err
	}
	batchID := c.Response().Header().Get(headerRequestID)
	out := generated.BatchResponseContent{Responses: make([]generated.BatchResponseItem, len(reqs))}
	succeeded := make([]bool, len(reqs))
	for _, i := range order {
		r := reqs[i]
		failed := ""
		for _, d := range valueOf(r.DependsOn) {
			if k := batchIndex(reqs, d); !succeeded[k] {
				failed = reqs[k].ID
			}
		}
		if failed != "" {
			out.Responses[i] = batchError(r.ID, http.StatusFailedDependency, "FailedDependency",
				fmt.Sprintf("Request %q depends on request %q, which did not succeed.", r.ID, failed))
			continue
		}
		out.Responses[i] = h.runBatched(c, r, batchID)
		succeeded[i] = out.Responses[i].Status >= 200 && out.Responses[i].Status < 300
	}
	return c.JSON(http.StatusOK, out)
}

// valueOf is *p, or T's zero value for nil (an optional list or map of the body).
func valueOf[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// batchIndex is the position of the request whose id is id (ids match
// without regard to case), or -1.
func batchIndex(reqs []generated.BatchRequestItem, id string) int {
	for i, r := range reqs {
		if strings.EqualFold(r.ID, id) {
			return i
		}
	}
	return -1
}

// batchOrder is the order the requests run in: theirs, but for each
// dependsOn, which puts a request after those it names. A batch the order
// cannot be made for is the service's 400: an id twice, a dependsOn naming
// no request of the batch, or a cycle.
func batchOrder(reqs []generated.BatchRequestItem) ([]int, error) {
	deps := make([][]int, len(reqs))
	for i, r := range reqs {
		if k := batchIndex(reqs, r.ID); k != i {
			return nil, badRequest([]reqcheck.Violation{{Target: fmt.Sprintf("/requests/%d/id", i),
				Message: fmt.Sprintf("id %s is the id of request %d too; the ids of a batch are unique (without regard to case)", reqcheck.Quote(r.ID), k)}})
		}
		for j, d := range valueOf(r.DependsOn) {
			k := batchIndex(reqs, d)
			if k < 0 {
				return nil, badRequest([]reqcheck.Violation{{Target: fmt.Sprintf("/requests/%d/dependsOn/%d", i, j),
					Message: fmt.Sprintf("%s is the id of no request of the batch", reqcheck.Quote(d))}})
			}
			deps[i] = append(deps[i], k)
		}
	}
	// Kahn's order, taking the first ready request each time: the batch's
	// own order where dependsOn allows it (at most 20 requests).
	order := make([]int, 0, len(reqs))
	done := make([]bool, len(reqs))
	for len(order) < len(reqs) {
		next := -1
		for i := range reqs {
			if done[i] {
				continue
			}
			ready := true
			for _, k := range deps[i] {
				ready = ready && done[k]
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, badRequest([]reqcheck.Violation{{Target: "/requests",
				Message: "the dependsOn of the batch's requests form a cycle"}})
		}
		done[next] = true
		order = append(order, next)
	}
	return order, nil
}

// runBatched serves one request of the batch through the whole server, as
// if it had been sent alone, and returns its answer.
func (h *handlers) runBatched(c echo.Context, r generated.BatchRequestItem, batchID string) generated.BatchResponseItem {
	outer := c.Request()
	target := r.URL
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	// Relative to the batch's version, unless the url names its own.
	if prefix := prefixOf(c); prefix != "" && !hasVersion(target) {
		target = prefix + target
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Host != "" {
		return batchError(r.ID, http.StatusBadRequest, "BadRequest", fmt.Sprintf("url %s is not a path and a query.", reqcheck.Quote(r.URL)))
	}
	if _, path := routePath(&http.Request{URL: u}, h.roots); path == "/$batch" || path == "/%24batch" {
		return batchError(r.ID, http.StatusBadRequest, "BadRequest", "A batch cannot hold a batch.")
	}
	var body *bytes.Reader
	if r.Body != nil {
		body = bytes.NewReader(*r.Body)
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(outer.Context(), string(r.Method), u.String(), body)
	if err != nil {
		return batchError(r.ID, http.StatusBadRequest, "BadRequest", fmt.Sprintf("url %s is not a path and a query.", reqcheck.Quote(r.URL)))
	}
	req.Host, req.RemoteAddr, req.TLS = outer.Host, outer.RemoteAddr, outer.TLS
	for name, value := range valueOf(r.Headers) {
		req.Header.Set(name, value)
	}
	if _, ok := req.Header["Authorization"]; !ok {
		req.Header["Authorization"] = outer.Header["Authorization"]
	}
	req.Header.Set(headerBatchRequestID, batchID)
	rec := &batchRecorder{header: http.Header{}}
	h.dispatch(rec, req)
	return rec.answer(r.ID)
}

// hasVersion tells whether path starts with a version prefix the mock serves.
func hasVersion(path string) bool {
	for _, v := range []string{"/beta", "/v1.0"} {
		if path == v || strings.HasPrefix(path, v+"/") {
			return true
		}
	}
	return false
}

// batchError is an answer in the batch that the server makes itself (424,
// or a url it cannot serve), in the error envelope.
func batchError(id string, status int, code, message string) generated.BatchResponseItem {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	headers := map[string]string{"Content-Type": "application/json"}
	var v any = json.RawMessage(body)
	return generated.BatchResponseItem{ID: id, Status: int32(status), Headers: &headers, Body: &v}
}

// batchRecorder is the ResponseWriter a request of a batch is answered to.
type batchRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *batchRecorder) Header() http.Header { return r.header }

func (r *batchRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *batchRecorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// answer is what the request was answered, as an item of the batch's
// answer: its status, its headers, and its body as JSON (or as text).
func (r *batchRecorder) answer(id string) generated.BatchResponseItem {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	item := generated.BatchResponseItem{ID: id, Status: int32(r.status)}
	if len(r.header) > 0 {
		headers := make(map[string]string, len(r.header))
		for name, values := range r.header {
			headers[name] = strings.Join(values, ", ")
		}
		item.Headers = &headers
	}
	if r.body.Len() > 0 {
		var v any = r.body.String()
		if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt == "application/json" && json.Valid(r.body.Bytes()) {
			v = json.RawMessage(bytes.Clone(r.body.Bytes()))
		}
		item.Body = &v
	}
	return item
}
