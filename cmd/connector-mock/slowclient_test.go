package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
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
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("closed after %v, want about the 300ms header timeout", waited)
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
