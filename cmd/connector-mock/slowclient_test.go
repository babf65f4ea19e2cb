package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startInProcess serves on a loopback port with the given options and stops at cleanup.
func startInProcess(t *testing.T, o options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, o, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

func defaultOptions(t *testing.T) options {
	t.Helper()
	o, err := parseFlags(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// stall opens a connection and sends half a request header, then nothing.
func stall(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStalledHeadersAreCut(t *testing.T) {
	o := defaultOptions(t)
	o.readHeaderTimeout = 300 * time.Millisecond
	addr := startInProcess(t, o)
	c := stall(t, addr)
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if err == nil || n != 0 {
		t.Fatalf("the stalled connection read %d bytes, %v; want it closed", n, err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server did not close a connection stalled in its headers within 5s")
	}
	// The header timeout runs from the first byte, just before start; without
	// it the 5 s read deadline above would have ended the read.
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("closed after %v, before the 300ms header timeout", waited)
	}
}

func TestStalledClientsDoNotDelayOthers(t *testing.T) {
	addr := startInProcess(t, defaultOptions(t))
	client := &http.Client{Timeout: 5 * time.Second}
	latency := func() time.Duration {
		t.Helper()
		best := time.Hour
		for range 5 {
			start := time.Now()
			rsp, err := client.Get("http://" + addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, rsp.Body)
			rsp.Body.Close()
			best = min(best, time.Since(start))
		}
		return best
	}
	before := latency()
	for range 200 {
		c := stall(t, addr)
		defer c.Close()
	}
	during := latency()
	t.Logf("healthz latency: %v alone, %v beside 200 stalled connections", before, during)
	if during > before*20+50*time.Millisecond {
		t.Errorf("200 stalled connections slowed a normal request from %v to %v", before, during)
	}
}

// TestStalledBodyIsCut: a client that stops halfway through its body gets
// the documented 400 when the read timeout passes, and its connection closed,
// also when the write timeout is as short as the read timeout (net/http sets
// both deadlines at once, so the answer has to be given more time).
func TestStalledBodyIsCut(t *testing.T) {
	for _, writeTimeout := range []time.Duration{30 * time.Second, 300 * time.Millisecond} {
		t.Run("write timeout "+writeTimeout.String(), func(t *testing.T) {
			o := defaultOptions(t)
			o.readTimeout = 300 * time.Millisecond
			o.writeTimeout = writeTimeout
			addr := startInProcess(t, o)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			if _, err := c.Write([]byte("POST /applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref HTTP/1.1\r\n" +
				"Host: 127.0.0.1\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"exter")); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			out, err := io.ReadAll(c) // the server answers, then closes
			waited := time.Since(start)
			if err != nil {
				t.Fatalf("reading the answer to a stalled body: %v (after %v)", err, waited)
			}
			rsp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
			if err != nil {
				t.Fatalf("the answer to a stalled body is not HTTP: %q (after %v)", out, waited)
			}
			body, _ := io.ReadAll(rsp.Body)
			if rsp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"message":"The request body could not be read."`) {
				t.Errorf("stalled body answered %d %s, want 400 with the envelope saying the body could not be read", rsp.StatusCode, body)
			}
			if !rsp.Close {
				t.Error("the connection of a stalled body was kept open")
			}
			// Cut at the 300ms read timeout: net/http's own deadline, not before.
			if waited < 290*time.Millisecond || waited > time.Second {
				t.Errorf("stalled body answered after %v, want about the 300ms read timeout", waited)
			}
		})
	}
}

// TestMaxConnections: at --max-connections, a client whose connections are
// busy (stalled in their headers here) cannot be joined by another: the new
// connection is closed at once, not left waiting, and /metrics counts it.
// Idle keep-alive connections do not hold the room: they are closed to make
// room for a new one. Once the busy ones go, new clients are served again.
func TestMaxConnections(t *testing.T) {
	o := defaultOptions(t)
	o.maxConnections = 8
	addr := startInProcess(t, o)
	get := func(path string) (int, string, error) {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		rsp, err := c.Get("http://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer rsp.Body.Close()
		body, err := io.ReadAll(rsp.Body)
		return rsp.StatusCode, string(body), err
	}

	// Idle keep-alive connections, as many as the limit: a new client is still served.
	var idle []*http.Transport
	for range o.maxConnections {
		tr := &http.Transport{}
		idle = append(idle, tr)
		rsp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, rsp.Body)
		rsp.Body.Close()
	}
	if status, _, err := get("/healthz"); status != http.StatusOK {
		t.Fatalf("beside %d idle connections: %d %v; want them closed to make room", o.maxConnections, status, err)
	}
	for _, tr := range idle {
		tr.CloseIdleConnections()
	}

	// Busy connections, as many as the limit: a new one is closed at once.
	var stalled []net.Conn
	for range o.maxConnections {
		stalled = append(stalled, stall(t, addr))
	}
	_, _, err := get("/healthz")
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("beside %d busy connections: %v; want the connection closed at once", o.maxConnections, err)
	}
	for _, c := range stalled {
		c.Close()
	}
	// The server notices the stalled connections close as it reads them.
	var status int
	var metrics string
	for range 10_000 {
		if status, metrics, err = get("/metrics"); status == http.StatusOK {
			break
		}
	}
	if status != http.StatusOK {
		t.Fatalf("after the busy connections closed: %d %v", status, err)
	}
	// At least the one above; the polling may have met the limit too.
	refused := regexp.MustCompile(`(?m)^connector_mock_connections_refused_total ([1-9][0-9]*)$`)
	if !refused.MatchString(metrics) || !strings.Contains(metrics, "connector_mock_connections_open ") {
		t.Errorf("/metrics does not count the refused connection:\n%s", grepLines(metrics, "connector_mock_"))
	}
}

// grepLines are the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestOptionsAsterisk: OPTIONS * is answered by the mock, not by net/http's
// bare 200: the documented 400 for no route, with a request-id and nosniff.
func TestOptionsAsterisk(t *testing.T) {
	addr := startInProcess(t, defaultOptions(t))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	rsp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rsp.Body)
	if rsp.StatusCode != http.StatusBadRequest || rsp.Header.Get("request-id") == "" || rsp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(string(body), `"code":"BadRequest"`) {
		t.Errorf("OPTIONS *: %d %v %s", rsp.StatusCode, rsp.Header, body)
	}
}
