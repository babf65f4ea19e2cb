package server_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/connector-group/members-api/server"
)

// worstCase is an input built to cost the most per byte, of about n bytes.
type worstCase struct {
	name   string
	status int
	build  func(n int) (target, body string)
}

var worstCases = []worstCase{
	{"distinct keys", 400, func(n int) (string, string) {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; b.Len() < n-16; i++ {
			fmt.Fprintf(&b, `"k%d":0,`, i)
		}
		b.WriteString(`"z":0}`)
		return addPath(testApp), b.String()
	}},
	{"array", 400, func(n int) (string, string) {
		return addPath(testApp), "[" + strings.Repeat("0,", n/2-1) + "0]"
	}},
	{"nesting", 400, func(n int) (string, string) {
		return addPath(testApp), `{"x":` + strings.Repeat("[", n/2-4) + strings.Repeat("]", n/2-4) + "}"
	}},
	{"string", 400, func(n int) (string, string) {
		return addPath(testApp), `{"machineName":"` + strings.Repeat("x", n-20) + `"}`
	}},
	{"escaped string", 400, func(n int) (string, string) {
		return addPath(testApp), `{"machineName":"` + strings.Repeat(`\u0041`, (n-20)/6) + `"}`
	}},
	{"path of %24 escapes", 400, func(n int) (string, string) {
		return "/applications/" + strings.Repeat("%24X", n/4), ""
	}},
}

func worstRequest(target, body string) *http.Request {
	req := newRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	return req
}

// TestWorstCasesAreLinear: each input shaped to cost the most, at the size
// limit (1 MiB; the path 60 KB), costs at most 8 times the same input at a
// sixteenth of the size answered 16 times over, timed beside it (the best of
// three each): the same work if the cost is linear, a sixteenth of it if it
// is quadratic, so a quadratic path is 16 times over. (4 times failed once
// at 4.06 under make test's four packages at a time: one large input meets
// the collector more often than sixteen small ones.) Both runs last about as long, so a busy machine preempts
// them alike; a wall-clock bound does not hold there. Idle, the full inputs
// take 8 to 72 ms on the 2-core development machine (the log says how long);
// a quadratic path took 15.8 s here before its fix.
func TestWorstCasesAreLinear(t *testing.T) {
	measuresCost(t)
	h, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	best := func(times int, target, body string) (time.Duration, *httptest.ResponseRecorder) {
		var fastest time.Duration
		var rec *httptest.ResponseRecorder
		for i := range 3 {
			start := time.Now()
			for range times {
				rec = httptest.NewRecorder()
				h.ServeHTTP(rec, worstRequest(target, body))
			}
			if took := time.Since(start); i == 0 || took < fastest {
				fastest = took
			}
		}
		return fastest, rec
	}
	for _, wc := range worstCases {
		size := server.DefaultMaxBodyBytes - 64
		if wc.name == "path of %24 escapes" {
			size = 60_000
		}
		target, body := wc.build(size)
		if len(body) > server.DefaultMaxBodyBytes {
			t.Fatalf("%s: the input is %d bytes, over the limit", wc.name, len(body))
		}
		smallTarget, smallBody := wc.build(size / 16)
		sixteenths, _ := best(16, smallTarget, smallBody)
		took, rec := best(1, target, body)
		t.Logf("%-20s %8d bytes  %3d  %v (a sixteenth, 16 times: %v)", wc.name, max(len(body), len(target)), rec.Code, took, sixteenths)
		if rec.Code != wc.status {
			t.Errorf("%s: status %d, want %d\n%.300s", wc.name, rec.Code, wc.status, rec.Body.String())
		}
		if took > 8*sixteenths {
			t.Errorf("%s: %v at the limit, %v for 16 inputs of a sixteenth: more than linear", wc.name, took, sixteenths)
		}
		if rec.Body.Len() > 16<<10 { // at most 100 violations, each shortened
			t.Errorf("%s: a %d-byte answer", wc.name, rec.Body.Len())
		}
	}
}

// BenchmarkWorstCase reports the cost per byte (with SetBytes, as MB/s) of
// each worst case from 64 KiB to 1 MiB: flat throughput is linear time.
func BenchmarkWorstCase(b *testing.B) {
	h, err := server.New(server.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, wc := range worstCases {
		sizes := []int{64 << 10, 256 << 10, 1<<20 - 64}
		if wc.name == "path of %24 escapes" {
			sizes = []int{4 << 10, 16 << 10, 60_000} // a path: net/http caps the header block anyway
		}
		for _, size := range sizes {
			target, body := wc.build(size)
			b.Run(fmt.Sprintf("%s/%dKiB", strings.ReplaceAll(wc.name, " ", "_"), max(len(body), len(target))>>10), func(b *testing.B) {
				b.SetBytes(int64(max(len(body), len(target))))
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, worstRequest(target, body))
					if rec.Code != wc.status {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
		}
	}
}

// TestDecodingMemoryIsLinear: a body at the size limit made of distinct
// property names (the costliest to check for duplicates) costs at most 4
// times its size in allocations, plain or gzipped (against the size it
// decompresses to), and so does a batch whose headers map has as many:
// 100,000 names once cost 60 times, 62 MB a request.
// Allocation is counted, not timed: the same on a busy machine.
func TestDecodingMemoryIsLinear(t *testing.T) {
	measuresCost(t)
	h, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	target, body := worstCases[0].build(server.DefaultMaxBodyBytes - 64)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(body))
	_ = zw.Close()
	var batch strings.Builder
	batch.WriteString(`{"requests":[{"id":"1","method":"GET","url":"/healthz","headers":{`)
	for i := 0; batch.Len() < len(body)-64; i++ {
		fmt.Fprintf(&batch, `"k%d":"v",`, i)
	}
	batch.WriteString(`"z":"v"}}]}`)
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"plain", func() *http.Request { return worstRequest(target, body) }},
		// A map (additionalProperties with a schema) is bounded by its
		// maxProperties: past it nothing is kept. Unbounded, this built a
		// header of 100,000 names for the inner request: 30 times the body.
		{"batch headers", func() *http.Request { return worstRequest("/$batch", batch.String()) }},
		{"gzip", func() *http.Request {
			req := worstRequest(target, zipped.String())
			req.Header.Set("Content-Encoding", "gzip")
			return req
		}},
	} {
		const n = 8
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i] = tc.req()
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, req := range reqs {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("%s: %d", tc.name, rec.Code)
			}
		}
		runtime.ReadMemStats(&after)
		perByte := float64(after.TotalAlloc-before.TotalAlloc) / n / float64(len(body))
		t.Logf("%s: a body of %d bytes, ~100,000 distinct names: %.2f bytes allocated a byte", tc.name, len(body), perByte)
		if perByte > 4 {
			t.Errorf("%s: %.1f bytes allocated for each byte of the body, want at most 4", tc.name, perByte)
		}
	}
}
