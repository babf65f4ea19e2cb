package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/internal/spectest"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
)

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGzipBodies: the Microsoft Graph SDKs compress request bodies; the mock
// takes gzip and identity and refuses any other encoding with a 415 naming
// Content-Encoding, so such a client resends uncompressed.
func TestGzipBodies(t *testing.T) {
	h := newHarness(t, server.Config{})
	body := `{"externalIp":"2001:db8::7","machineName":"connector-é-01","status":"inactive"}`
	for _, tc := range []struct {
		name, encoding string
		body           []byte
		status         int
		code           string
	}{
		{"gzip", "gzip", gzipped(t, []byte(body)), 201, ""},
		{"x-gzip", "x-gzip", gzipped(t, []byte(body)), 201, ""},
		{"identity", "identity", []byte(body), 201, ""},
		{"br", "br", []byte(body), 415, "UnsupportedMediaType"},
		{"gzip twice", "gzip, gzip", gzipped(t, gzipped(t, []byte(body))), 415, "UnsupportedMediaType"},
		{"not gzip", "gzip", []byte(body), 400, "Request_BadRequest"},
		{"cut short", "gzip", gzipped(t, []byte(body))[:30], 400, "Request_BadRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := uuid.NewString()
			res := h.do(http.MethodPost, addPath(app), jsonHeader("Content-Encoding", tc.encoding, "Prefer", "return=representation"), bytes.NewReader(tc.body))
			if res.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", res.status, tc.status, res.body)
			}
			if tc.code != "" {
				assertError(t, res, tc.status, tc.code, "")
				if env := decodeError(t, res.body); env.Error.Target == nil || *env.Error.Target != "Content-Encoding" {
					t.Errorf("target %v, want Content-Encoding", env.Error.Target)
				}
				if page := h.list(listPath(app)); len(page.Value) != 0 {
					t.Errorf("a refused body stored %+v", page.Value)
				}
				return
			}
			stored := h.list(listPath(app)).Value
			if len(stored) != 1 || stored[0].MachineName != "connector-é-01" || stored[0].ExternalIP != "2001:db8::7" {
				t.Errorf("stored %+v, want exactly what was sent", stored)
			}
		})
	}
}

// TestGzipBomb: a body that inflates to 100 MiB is a 413, and reading it
// costs about the size limit, not the inflated size. One layer of deflate
// compresses at most about 1,030 to 1, so 100 MiB of zeros is a 100 KiB body;
// a smaller bomb needs gzip inside gzip, which is refused (415).
func TestGzipBomb(t *testing.T) {
	h := newHarness(t, server.Config{})
	// 16 MiB of zeros in 16 KiB: sixteen times the limit, where reading stops.
	bomb := gzipped(t, make([]byte, 16<<20))
	if len(bomb) > 20<<10 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := h.do(http.MethodPost, addPath(testApp), jsonHeader("Content-Encoding", "gzip"), bytes.NewReader(bomb))
	runtime.ReadMemStats(&after)
	assertError(t, res, 413, "RequestEntityTooLarge", "")
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte gzip bomb of 16 MiB: 413 after allocating %d KB", len(bomb), allocated>>10)
	if allocated > 20<<20 {
		t.Errorf("reading the bomb allocated %d MB, want under 20", allocated>>20)
	}
}

// TestPreferCode: Prefer: code=NNN (Prism's convention) answers that fault,
// in the envelope, with Retry-After on 429 and 503, and changes nothing.
func TestPreferCode(t *testing.T) {
	h := newHarness(t, server.Config{})
	for _, tc := range []struct {
		code       int
		errorCode  string
		retryAfter bool
	}{
		{429, "TooManyRequests", true},
		{500, "InternalServerError", false},
		{502, "BadGateway", false},
		{503, "ServiceUnavailable", true},
		{504, "GatewayTimeout", false},
	} {
		app := uuid.NewString()
		res := h.add(app, validBody, "Prefer", "code="+strconv.Itoa(tc.code))
		assertError(t, res, tc.code, tc.errorCode, "")
		if got := res.header.Get("Retry-After"); (got == "1") != tc.retryAfter {
			t.Errorf("%d: Retry-After %q", tc.code, got)
		}
		if page := h.list(listPath(app)); len(page.Value) != 0 {
			t.Errorf("%d: a faulted add stored %+v", tc.code, page.Value)
		}
		for _, target := range []string{listPath(app), memberPath(app, uuid.NewString())} {
			if res := h.do(http.MethodGet, target, authed("Prefer", "code="+strconv.Itoa(tc.code)), nil); res.status != tc.code {
				t.Errorf("GET %s with code=%d: %d", target, tc.code, res.status)
			}
		}
	}
	// Other codes are ignored, and so is a code on a request that is no member operation.
	if res := h.add(uuid.NewString(), validBody, "Prefer", "code=418, return=minimal"); res.status != http.StatusNoContent {
		t.Errorf("code=418: %d", res.status)
	}
	if res := h.do(http.MethodGet, "/healthz", http.Header{"Prefer": {"code=503"}}, nil); res.status != http.StatusOK {
		t.Errorf("/healthz with code=503: %d", res.status)
	}
	if strings.Count(h.logs.String(), "fault=") != 15 {
		t.Errorf("the log does not name each of the 15 faults:\n%s", h.logs.String())
	}
}

// statuses sends n adds, one after the other, each with a token of its own
// (so that no 429 throttles the next), and returns their statuses.
func statuses(t *testing.T, h *harness, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		header := jsonHeader()
		header.Set("Authorization", fmt.Sprintf("Bearer caller-%d", i))
		out[i] = h.do(http.MethodPost, addPath(uuid.NewString()), header, strings.NewReader(validBody)).status
	}
	return out
}

// TestSeededFaultsRepeat: the same seed gives the same faults for the same
// requests in the same order.
func TestSeededFaultsRepeat(t *testing.T) {
	cfg := server.Config{Seed: 7, Faults: faults.Settings{FaultRate: 0.5}}
	first := statuses(t, newHarness(t, cfg), 40)
	second := statuses(t, newHarness(t, cfg), 40)
	if !slices.Equal(first, second) {
		t.Errorf("seed 7 gave\n%v\nthen\n%v", first, second)
	}
	faulted := 0
	for _, s := range first {
		if s != http.StatusNoContent {
			faulted++
			if s != 429 && s != 503 && s != 504 {
				t.Errorf("a fault of %d, not one of the default codes", s)
			}
		}
	}
	if faulted < 8 || faulted > 32 {
		t.Errorf("%d of 40 faulted at a rate of 0.5", faulted)
	}
	other := statuses(t, newHarness(t, server.Config{Seed: 8, Faults: faults.Settings{FaultRate: 0.5}}), 40)
	if slices.Equal(first, other) {
		t.Error("seeds 7 and 8 gave the same 40 statuses")
	}
}

// TestRateLimit: at most N member operations per bearer token per window,
// the RateLimit headers on each, 429 past it; and a retry before the 429's
// Retry-After has passed is throttled again, even in the next window.
func TestRateLimit(t *testing.T) {
	// On synctest's clock: the waits for the window and Retry-After pass at once.
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, server.Config{Faults: faults.Settings{RateLimit: faults.RateLimit{Requests: 5, Window: 1500 * time.Millisecond}}})
		get := func(token string) result {
			return h.do(http.MethodGet, listPath(testApp), http.Header{"Authorization": {"Bearer " + token}}, nil)
		}
		start := time.Now()
		for i := range 5 {
			res := get("a")
			if res.status != http.StatusOK {
				t.Fatalf("request %d of 5: %d", i+1, res.status)
			}
			if got := res.header.Get("RateLimit-Limit"); got != "5" {
				t.Errorf("RateLimit-Limit %q", got)
			}
			if got := res.header.Get("RateLimit-Remaining"); got != strconv.Itoa(4-i) {
				t.Errorf("request %d: RateLimit-Remaining %q, want %d", i+1, got, 4-i)
			}
			if got := res.header.Get("RateLimit-Reset"); got != "2" && got != "1" {
				t.Errorf("RateLimit-Reset %q", got)
			}
		}
		res := get("a")
		assertError(t, res, 429, "TooManyRequests", "")
		retryAfter, _ := strconv.Atoi(res.header.Get("Retry-After"))
		if retryAfter < 1 || retryAfter > 2 || res.header.Get("RateLimit-Remaining") != "0" {
			t.Errorf("the 6th: Retry-After %q, RateLimit-Remaining %q", res.header.Get("Retry-After"), res.header.Get("RateLimit-Remaining"))
		}
		if res := get("b"); res.status != http.StatusOK {
			t.Errorf("another token was throttled: %d", res.status)
		}
		// The window is over after 1.5 s, but the 429 said to wait until 2 s.
		time.Sleep(time.Until(start.Add(1600 * time.Millisecond)))
		if res := get("a"); res.status != http.StatusTooManyRequests && time.Since(start) < 2*time.Second {
			t.Errorf("a retry before Retry-After passed: %d, want 429", res.status)
		}
		time.Sleep(time.Until(start.Add(time.Duration(retryAfter)*time.Second + 100*time.Millisecond)))
		if res := get("a"); res.status != http.StatusOK {
			t.Errorf("after Retry-After: %d", res.status)
		}
	})
}

// TestLatency: an add waits at least the latency; a client that goes away
// frees its goroutine at once, and nothing is stored.
func TestLatency(t *testing.T) {
	h := newHarness(t, server.Config{Faults: faults.Settings{Latency: faults.Latency{Min: 200 * time.Millisecond, Max: 200 * time.Millisecond}}})
	start := time.Now()
	if res := h.add(uuid.NewString(), validBody); res.status != http.StatusNoContent {
		t.Fatalf("status %d", res.status)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("an add with 200ms of latency took %v", took)
	}
	if !strings.Contains(h.logs.String(), "latency=200ms") {
		t.Errorf("the log does not say the latency:\n%s", h.logs.String())
	}

	srv := realServer(t, server.Config{Faults: faults.Settings{Latency: faults.Latency{Min: 10 * time.Second, Max: 10 * time.Second}}})
	app := uuid.NewString()
	baseline := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+addPath(app), strings.NewReader(validBody))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a 10 s latency answered within 100 ms: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		t.Errorf("%d goroutines a second after the client went, %d before it came", n, baseline)
	}
	srv.Config.Handler.(*server.Server).SetFaults(faults.Settings{})
	checked := &http.Client{Transport: &spectest.Transport{Checker: specChecker(t), T: t}}
	get, _ := http.NewRequest(http.MethodGet, srv.URL+listPath(app), nil)
	get.Header.Set("Authorization", "Bearer t")
	rsp, err := checked.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	var page struct{ Value []json.RawMessage }
	if err := json.NewDecoder(rsp.Body).Decode(&page); err != nil || len(page.Value) != 0 {
		t.Errorf("an add whose client left during the latency stored %d members (%v)", len(page.Value), err)
	}
}

// TestSetFaultsTakesEffect: the settings change for the next request.
func TestSetFaultsTakesEffect(t *testing.T) {
	h := newHarness(t, server.Config{})
	s := h.handler.(*server.Server)
	if err := s.SetFaults(faults.Settings{FaultRate: 1, FaultCodes: []int{502}}); err != nil {
		t.Fatal(err)
	}
	if res := h.add(uuid.NewString(), validBody); res.status != http.StatusBadGateway {
		t.Errorf("after SetFaults(502 always): %d", res.status)
	}
	if got := s.Faults(); got.FaultRate != 1 || !slices.Equal(got.FaultCodes, []int{502}) {
		t.Errorf("Faults() = %+v", got)
	}
	if err := s.SetFaults(faults.Settings{FaultRate: 2}); err == nil {
		t.Error("a fault rate of 2 was accepted")
	}
	if err := s.SetFaults(faults.Settings{}); err != nil {
		t.Fatal(err)
	}
	if res := h.add(uuid.NewString(), validBody); res.status != http.StatusNoContent {
		t.Errorf("after SetFaults(none): %d", res.status)
	}
}

// TestMisbehavingConcurrently: 32 clients against faults, a rate limit and
// latency. No 5xx but the injected ones (the default codes: 503 and 504),
// and the final state is exactly the acknowledged adds less the
// acknowledged removes. Run under -race by make test.
func TestMisbehavingConcurrently(t *testing.T) {
	h := newHarness(t, server.Config{Faults: faults.Settings{
		FaultRate: 0.3, RateLimit: faults.RateLimit{Requests: 100, Window: time.Second},
		Latency: faults.Latency{Min: time.Millisecond, Max: 5 * time.Millisecond},
	}})
	app := uuid.NewString()
	var mu sync.Mutex
	want := map[string]bool{}
	unexpected := map[int]int{}
	var wg sync.WaitGroup
	for client := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			header := jsonHeader()
			header.Set("Authorization", fmt.Sprintf("Bearer client-%d", client))
			var mine []string
			for i := range 20 {
				id := uuid.NewString()
				res := h.do(http.MethodPost, addPath(app), header, strings.NewReader(`{"id":"`+id+`","externalIp":"192.0.2.1","machineName":"m","status":"active"}`))
				mu.Lock()
				switch res.status {
				case http.StatusNoContent:
					want[id] = true
					mine = append(mine, id)
				case 429, 503, 504:
				default:
					unexpected[res.status]++
				}
				mu.Unlock()
				if i%3 == 2 && len(mine) > 0 {
					victim := mine[0]
					res := h.do(http.MethodDelete, memberPath(app, victim)+"/$ref", header, nil)
					mu.Lock()
					switch res.status {
					case http.StatusNoContent:
						delete(want, victim)
						mine = mine[1:]
					case 429, 503, 504:
					default:
						unexpected[res.status]++
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(unexpected) > 0 {
		t.Errorf("statuses no fault explains: %v", unexpected)
	}
	if err := h.handler.(*server.Server).SetFaults(faults.Settings{}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for target := listPath(app) + "?$top=999"; target != ""; {
		page := h.list(target)
		for _, m := range page.Value {
			got[m.ID.String()] = true
		}
		target = ""
		if page.OdataNextLink != nil {
			target = *page.OdataNextLink
		}
	}
	if len(got) != len(want) {
		t.Errorf("the group holds %d members, the acknowledged changes leave %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("acknowledged member %s is missing", id)
		}
	}
	t.Logf("%d members after %d adds by 32 clients", len(got), 32*20)
}

// TestGzipLabelOnAPlainBody: kiota-http-go's retry resends the plain body
// under Content-Encoding: gzip when its compression handler runs before its
// retry handler (kiota-http-go issue 183). The answer stays a 400 on
// Content-Encoding, says what arrived and how to order the middleware, and
// the journal keeps the bytes that arrived.
func TestGzipLabelOnAPlainBody(t *testing.T) {
	h := newHarness(t, server.Config{})
	res := h.do(http.MethodPost, addPath(testApp), jsonHeader("Content-Encoding", "gzip"), strings.NewReader(validBody))
	assertError(t, res, 400, "Request_BadRequest", "")
	env := decodeError(t, res.body)
	want := fmt.Sprintf("The body is labelled Content-Encoding: gzip but it is %d bytes of plain JSON.", len(validBody))
	if got := targets(env); !slices.Equal(got, []string{"Content-Encoding"}) || !strings.HasPrefix(env.Error.Message, want) ||
		!strings.Contains(env.Error.Message, "put the compression handler before the retry handler in the middleware list (issue 183)") {
		t.Errorf("targets %q, message %q", got, env.Error.Message)
	}
	entries := h.journal("?operation=addConnectorGroupMember")
	if len(entries) != 1 || entries[0].Body == nil || *entries[0].Body != validBody {
		t.Errorf("the journal keeps %+v, want the plain body that arrived", entries)
	}
}
