package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/client"
	"github.com/connector-group/members-api/server"
	"github.com/connector-group/members-api/server/faults"
)

// scripted serves the answers of script in turn (the last one for ever), and
// records the requests it got.
type scripted struct {
	mu       sync.Mutex
	script   []func(w http.ResponseWriter, r *http.Request)
	requests []*http.Request
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, r.Clone(context.Background()))
	step := s.script[min(n, len(s.script)-1)]
	s.mu.Unlock()
	step(w, r)
}

func (s *scripted) got() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

func envelope(status int, code, retryAfter string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "5c7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b")
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":"try later","innerError":{"date":"2026-11-29T08:00:00Z","request-id":"5c7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b"}}}`, code)
	}
}

var memberJSON = `{"@odata.type":"#microsoft.graph.connector","id":"72bb7735-7735-42bb-b577-bb723577bb72","externalIp":"203.0.113.7","machineName":"m","status":"active"}`

func okMember(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "6d7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b")
	_, _ = w.Write([]byte(memberJSON))
}

func newScripted(t *testing.T, opts []client.Option, steps ...func(http.ResponseWriter, *http.Request)) (*client.Client, *scripted) {
	t.Helper()
	s := &scripted{script: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, append([]client.Option{client.WithToken("t")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// waits is a clock for the client that records the waits before retries
// instead of spending them: its time moves by each wait.
type waits struct {
	mu  sync.Mutex
	at  time.Time
	got []time.Duration
}

func newWaits() *waits { return &waits{at: time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)} }

func (w *waits) option() client.Option { return client.WithClock(w.now, w.sleep) }

func (w *waits) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got, w.at = append(w.got, d), w.at.Add(d)
	return ctx.Err()
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}

func TestHangingServerEndsAtTheTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, s := newScripted(t, []client.Option{client.WithTimeout(300 * time.Millisecond)}, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	_, err := c.GetMember(context.Background(), uuid.New(), uuid.New())
	took := time.Since(start)
	var te *client.TimeoutError
	var ne net.Error
	if !errors.As(err, &te) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v (%T), want a *client.TimeoutError", err, err)
	}
	if took < 300*time.Millisecond || took > 10*time.Second || len(s.got()) != 1 {
		t.Errorf("a hanging server: answered after %v and %d attempts, want one attempt at the 300ms timeout", took, len(s.got()))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	w := newWaits()
	c, s := newScripted(t, []client.Option{w.option()}, envelope(429, "TooManyRequests", "1"), okMember)
	var info client.Response
	m, err := c.GetMember(context.Background(), uuid.New(), uuid.New(), client.Inspect(&info))
	if err != nil {
		t.Fatal(err)
	}
	reqs := s.got()
	if waited := w.list(); len(reqs) != 2 || !slices.Equal(waited, []time.Duration{time.Second}) {
		t.Fatalf("%d attempts after waits of %v, want 2 after the 1 s Retry-After", len(reqs), waited)
	}
	if got := reqs[1].Header.Get("Retry-Attempt"); got != "1" || reqs[0].Header.Get("Retry-Attempt") != "" {
		t.Errorf("Retry-Attempt %q on the retry (and %q on the first)", got, reqs[0].Header.Get("Retry-Attempt"))
	}
	if a, b := reqs[0].Header.Get("client-request-id"), reqs[1].Header.Get("client-request-id"); a == "" || a != b {
		t.Errorf("client-request-ids %q and %q, want one for the call", a, b)
	}
	if m.ID.String() != "72bb7735-7735-42bb-b577-bb723577bb72" || info.Attempts != 2 || info.RequestID != "6d7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b" {
		t.Errorf("member %+v, response %+v", m, info)
	}
}

func TestRetryAfterForms(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"0.4", 400 * time.Millisecond},
		{"2", 2 * time.Second},
		{newWaits().now().Add(3 * time.Second).Format(http.TimeFormat), 3 * time.Second},
	} {
		w := newWaits()
		c, _ := newScripted(t, []client.Option{w.option()}, envelope(503, "ServiceUnavailable", tc.header), okMember)
		if _, err := c.GetMember(context.Background(), uuid.New(), uuid.New()); err != nil {
			t.Fatal(err)
		}
		if waited := w.list(); !slices.Equal(waited, []time.Duration{tc.want}) {
			t.Errorf("Retry-After %q: waited %v, want %v", tc.header, waited, tc.want)
		}
	}
}

func TestRetriesRunOut(t *testing.T) {
	unavailable := envelope(503, "ServiceUnavailable", "0")
	c, s := newScripted(t, []client.Option{client.WithRetries(3)}, unavailable, unavailable, unavailable, okMember)
	if _, err := c.GetMember(context.Background(), uuid.New(), uuid.New()); err != nil || len(s.got()) != 4 {
		t.Fatalf("503 three times then success, with 3 retries: %v after %d attempts", err, len(s.got()))
	}
	c, s = newScripted(t, []client.Option{client.WithRetries(2)}, unavailable, unavailable, unavailable, okMember)
	_, err := c.GetMember(context.Background(), uuid.New(), uuid.New())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Attempts != 3 || len(s.got()) != 3 {
		t.Errorf("with 2 retries: %v (%+v) after %d attempts", err, ae, len(s.got()))
	}
	c, s = newScripted(t, []client.Option{client.WithRetries(0)}, envelope(429, "TooManyRequests", "0"))
	_, err = c.GetMember(context.Background(), uuid.New(), uuid.New())
	if !errors.Is(err, client.ErrThrottled) || len(s.got()) != 1 {
		t.Errorf("WithRetries(0): %v after %d attempts, want ErrThrottled after 1", err, len(s.got()))
	}
}

// TestDeadlineBoundsTheCall: a Retry-After longer than the context allows is
// not waited; the call returns the 429 at once.
func TestDeadlineBoundsTheCall(t *testing.T) {
	c, s := newScripted(t, nil, envelope(429, "TooManyRequests", "30"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.GetMember(ctx, uuid.New(), uuid.New())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.RetryAfter != 30*time.Second || !errors.Is(err, client.ErrThrottled) {
		t.Fatalf("err = %v, want the 429 with RetryAfter 30s", err)
	}
	// Waiting for the deadline would take 20 s; at once is well under half of it,
	// however busy the machine.
	if took := time.Since(start); took > 10*time.Second || len(s.got()) != 1 {
		t.Errorf("returned after %v and %d attempts", took, len(s.got()))
	}
}

func TestAnswersThatAreNotTheAPI(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		step   func(http.ResponseWriter, *http.Request)
		status int
		apiErr bool
	}{
		{"an HTML 502", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("request-id", "proxy-1")
			w.WriteHeader(502)
			_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		}, 502, true},
		{"invalid JSON in a 200", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("request-id", "6d7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b")
			_, _ = w.Write([]byte(`{"id": `))
		}, 200, false},
		{"a member without an id", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("request-id", "6d7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b")
			_, _ = w.Write([]byte(`{}`))
		}, 200, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newScripted(t, nil, tc.step)
			_, err := c.GetMember(ctx, uuid.New(), uuid.New())
			var ae *client.APIError
			var ue *client.UnexpectedResponseError
			switch {
			case tc.apiErr && errors.As(err, &ae):
				if ae.StatusCode != tc.status || ae.RequestID != "proxy-1" || !strings.Contains(ae.Message, "Bad Gateway") {
					t.Errorf("%+v", ae)
				}
			case !tc.apiErr && errors.As(err, &ue):
				if ue.StatusCode != tc.status || !strings.Contains(err.Error(), "6d7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b") || !strings.Contains(err.Error(), "200") {
					t.Errorf("%v", err)
				}
			default:
				t.Errorf("err = %v (%T)", err, err)
			}
		})
	}
	// A request-id that is no GUID does not fail the call.
	c, _ := newScripted(t, nil, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "not-a-guid")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"error":{"code":"Request_ResourceNotFound","message":"gone","target":"connectorId","innerError":{"date":"2026-11-29T08:00:00Z","request-id":"5c7e3c4b-8a0d-4f6e-9b1a-2d3c4e5f6a7b"}}}`))
	})
	_, err := c.GetMember(ctx, uuid.New(), uuid.New())
	var ae *client.APIError
	if !errors.As(err, &ae) || !errors.Is(err, client.ErrNotFound) || ae.RequestID != "not-a-guid" {
		t.Errorf("a 404 with request-id not-a-guid: %v", err)
	}
}

// TestWrongBaseURLIsNotANotFoundMember: idempotent delete code that ignores
// ErrNotFound must not "succeed" against a misconfigured server.
func TestWrongBaseURLIsNotANotFoundMember(t *testing.T) {
	h, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	wrong, err := client.New(srv.URL+"/wrong", client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	err = wrong.RemoveMember(context.Background(), uuid.New(), uuid.New())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != "BadRequest" || errors.Is(err, client.ErrNotFound) ||
		!errors.Is(err, client.ErrInvalidRequest) || ae.Message != "Resource not found for the segment 'wrong'." {
		t.Errorf("a wrong base URL: %v; want Graph's 400 BadRequest naming the segment, not ErrNotFound", err)
	}
	right, err := client.New(srv.URL, client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	if err := right.RemoveMember(context.Background(), uuid.New(), uuid.New()); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a missing member: %v, want ErrNotFound", err)
	}
	// A base URL with a path, as https://graph.microsoft.com/v1.0 has, keeps
	// it; the mock serves the member operations under /v1.0 and /beta too.
	for _, base := range []string{srv.URL + "/v1.0", srv.URL + "/beta/"} {
		c, err := client.New(base, client.WithToken("t"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.RemoveMember(context.Background(), uuid.New(), uuid.New()); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("base %s: %v, want ErrNotFound from the mock under its prefix", base, err)
		}
		m, err := c.AddMember(context.Background(), uuid.New(), client.Connector{ExternalIP: "192.0.2.1", MachineName: "m", Status: "active"})
		if err != nil || m.ID == uuid.Nil {
			t.Errorf("base %s: add %v, %v", base, m, err)
		}
	}
}

// TestLostAnswerToAnAdd: the server stores the member, then the connection
// drops before the answer. The retry is told "already a member", finds the
// connector it sent, and the add succeeds; the member is there once.
func TestLostAnswerToAnAdd(t *testing.T) {
	mock, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 1 {
			mock.ServeHTTP(httptest.NewRecorder(), r) // stored, answer lost
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		mock.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	app := uuid.New()
	m, err := c.AddMember(context.Background(), app, connector("lost"))
	if err != nil {
		t.Fatalf("an add whose first answer was lost: %v", err)
	}
	var ids []uuid.UUID
	for got, err := range c.ListMembers(context.Background(), app) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	if posts.Load() != 2 || len(ids) != 1 || ids[0] != m.ID {
		t.Errorf("%d posts, members %v; want 2 posts and the one member %s", posts.Load(), ids, m.ID)
	}
}

func TestConnectionRefusedIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	w := newWaits()
	c, err := client.New("http://"+addr, client.WithRetries(2), w.option())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetMember(context.Background(), uuid.New(), uuid.New())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
	if waited := w.list(); len(waited) != 2 || waited[0] <= 0 || waited[1] <= 0 {
		t.Errorf("waits before the two retries: %v", waited)
	}
}

// TestAddsAgainstAFaultyMock: 200 adds through AddMember against the mock
// failing 30% of member operations with 429, 503 and 504 all succeed, and
// list back exactly once each.
func TestAddsAgainstAFaultyMock(t *testing.T) {
	mock, err := server.New(server.Config{Faults: faults.Settings{FaultRate: 0.3,
		FaultCodes: []int{429, 503, 504}, RetryAfter: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	defer srv.Close()
	app := uuid.New()
	added := make(chan uuid.UUID, 200)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A token of its own: a 429 throttles the token's next second.
			// Its waits before retries are recorded, not spent: drawn
			// faults do not depend on when a request comes.
			c, err := client.New(srv.URL, client.WithToken(fmt.Sprint("worker-", w)), client.WithRetries(10), newWaits().option())
			if err != nil {
				t.Error(err)
				return
			}
			for i := w; i < 200; i += 16 {
				m, err := c.AddMember(context.Background(), app, connector(fmt.Sprint("m", i)))
				if err != nil {
					t.Errorf("add %d: %v", i, err)
					continue
				}
				added <- m.ID
			}
		}()
	}
	wg.Wait()
	close(added)
	want := map[uuid.UUID]bool{}
	for id := range added {
		want[id] = true
	}
	if err := mock.SetFaults(faults.Settings{}); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.URL, client.WithToken("reader"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uuid.UUID]int{}
	for m, err := range c.ListMembers(context.Background(), app, client.PageSize(50)) {
		if err != nil {
			t.Fatal(err)
		}
		seen[m.ID]++
	}
	if len(want) != 200 || len(seen) != 200 {
		t.Errorf("%d adds succeeded, %d members listed; want 200 and 200", len(want), len(seen))
	}
	for id, n := range seen {
		if n != 1 || !want[id] {
			t.Errorf("member %s listed %d times (added: %v)", id, n, want[id])
		}
	}
}

// TestUnknownStatusIsTolerated: a status the client's spec does not list (a
// newer server's `degraded`) reaches the caller as it is, not as an error.
func TestUnknownStatusIsTolerated(t *testing.T) {
	c, _ := newScripted(t, nil, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(strings.Replace(memberJSON, `"active"`, `"degraded"`, 1)))
	})
	m, err := c.GetMember(context.Background(), uuid.New(), uuid.New())
	if err != nil || m.Status != "degraded" {
		t.Errorf("a member with status degraded: %+v, %v", m, err)
	}
}

// TestLongRetryAfterIsNotWaited: a Retry-After longer than WithMaxRetryWait
// (a minute by default), in seconds or as a far date, is not waited: the
// call returns the 429 or 503 at once, its RetryAfter saying what the server
// asked. A wait within the bound is waited, as asked.
func TestLongRetryAfterIsNotWaited(t *testing.T) {
	far := newWaits().now().AddDate(7973, 0, 0).Format(http.TimeFormat) // the year 9999
	for _, tc := range []struct {
		name, header string
		opts         []client.Option
		attempts     int
		waited       []time.Duration
	}{
		{"999999 s", "999999", nil, 1, nil},
		{"a date in 9999", far, nil, 1, nil},
		{"61 s, just over the default", "61", nil, 1, nil},
		{"60 s, the default", "60", nil, 2, []time.Duration{time.Minute}},
		{"10 s over a bound of 5 s", "10", []client.Option{client.WithMaxRetryWait(5 * time.Second)}, 1, nil},
		{"no wait allowed", "1", []client.Option{client.WithMaxRetryWait(0)}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWaits()
			c, s := newScripted(t, append([]client.Option{w.option()}, tc.opts...), envelope(429, "TooManyRequests", tc.header), okMember)
			_, err := c.GetMember(context.Background(), uuid.New(), uuid.New())
			if len(s.got()) != tc.attempts || !slices.Equal(w.list(), tc.waited) {
				t.Fatalf("%d attempts after waits of %v, want %d after %v", len(s.got()), w.list(), tc.attempts, tc.waited)
			}
			var ae *client.APIError
			if tc.attempts == 1 && (!errors.As(err, &ae) || !errors.Is(err, client.ErrThrottled) || ae.RetryAfter <= time.Second && tc.header != "1") {
				t.Errorf("err = %v (%+v), want the 429 with the RetryAfter asked", err, ae)
			}
		})
	}
}

// TestCallTimeoutBoundsRetries: WithCallTimeout bounds a whole call, its
// attempts and waits together: a wait that would outlast it is not begun.
func TestCallTimeoutBoundsRetries(t *testing.T) {
	w := newWaits()
	unavailable := envelope(503, "ServiceUnavailable", "20")
	c, s := newScripted(t, []client.Option{w.option(), client.WithCallTimeout(30 * time.Second), client.WithRetries(10)},
		unavailable, unavailable, unavailable, okMember)
	_, err := c.GetMember(context.Background(), uuid.New(), uuid.New())
	if len(s.got()) != 2 || !slices.Equal(w.list(), []time.Duration{20 * time.Second}) || !errors.Is(err, client.ErrThrottled) && err == nil {
		t.Errorf("%d attempts after waits of %v (%v); want 2 after one wait of 20 s: a second would end past 30 s", len(s.got()), w.list(), err)
	}
	for _, bad := range []client.Option{client.WithCallTimeout(-time.Second), client.WithMaxRetryWait(-time.Second), client.WithMaxPages(0)} {
		if _, err := client.New("http://127.0.0.1:1", bad); err == nil {
			t.Error("a negative bound was accepted")
		}
	}
}

// TestPageCapSaysSo: a server whose links lead on for ever, with empty pages,
// is followed WithMaxPages pages and no further, and the error says why
// (not that a link leads back to a page already read: none did).
func TestPageCapSaysSo(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"http://%s/applications/x/connectorGroup/members?p=%d"}`, r.Host, n)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithToken("t"), client.WithMaxPages(50))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range c.ListPages(context.Background(), uuid.New()) {
		last = err
	}
	var ue *client.UnexpectedResponseError
	if served.Load() != 50 || !errors.As(last, &ue) || !strings.Contains(last.Error(), "more than 50 pages") || strings.Contains(last.Error(), "leads back") {
		t.Errorf("after %d pages: %v", served.Load(), last)
	}
}
