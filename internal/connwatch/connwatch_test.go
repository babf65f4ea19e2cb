package connwatch

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// pair returns a connection accepted through a Listener with the given
// resolution, and the client end of it.
func pair(t *testing.T, resolution time.Duration) (l *Listener, server, client net.Conn) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = Listen(inner, resolution)
	t.Cleanup(func() { _ = l.Close(); l.Stop() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return l, server, client
}

// blockedRead reads from c in the background and reports the error and when it came.
func blockedRead(c net.Conn) <-chan readResult {
	out := make(chan readResult, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		out <- readResult{err, time.Now()}
	}()
	return out
}

type readResult struct {
	err error
	at  time.Time
}

func TestDeadlines(t *testing.T) {
	const resolution = 20 * time.Millisecond
	tests := []struct {
		name string
		// set is called on the server end of a fresh connection, with a read in flight.
		set func(c net.Conn, start time.Time)
		// cutAfter is how long after start the read must end with a timeout; 0: it must not end.
		cutAfter time.Duration
		// slack is how late past cutAfter the cut may come.
		slack time.Duration
	}{
		{"future deadline cut at its time", func(c net.Conn, s time.Time) { _ = c.SetReadDeadline(s.Add(150 * time.Millisecond)) },
			150 * time.Millisecond, 3 * resolution},
		{"deadline in the past cuts at once", func(c net.Conn, s time.Time) { _ = c.SetReadDeadline(aLongTimeAgo) },
			0 * time.Millisecond, resolution / 2},
		{"deadline moved later is not cut at the earlier time", func(c net.Conn, s time.Time) {
			_ = c.SetReadDeadline(s.Add(60 * time.Millisecond))
			_ = c.SetReadDeadline(s.Add(250 * time.Millisecond))
		}, 250 * time.Millisecond, 3 * resolution},
		{"SetDeadline covers reads", func(c net.Conn, s time.Time) { _ = c.SetDeadline(s.Add(100 * time.Millisecond)) },
			100 * time.Millisecond, 3 * resolution},
		{"deadline cleared is never cut", func(c net.Conn, s time.Time) {
			_ = c.SetReadDeadline(s.Add(50 * time.Millisecond))
			_ = c.SetReadDeadline(time.Time{})
		}, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, server, _ := pair(t, resolution)
			start := time.Now()
			tt.set(server, start)
			res := blockedRead(server)
			if tt.cutAfter < 0 {
				select {
				case r := <-res:
					t.Fatalf("read ended after %v with %v; want it still blocked", r.at.Sub(start), r.err)
				case <-time.After(10 * resolution):
				}
				return
			}
			select {
			case r := <-res:
				if !errors.Is(r.err, os.ErrDeadlineExceeded) {
					t.Fatalf("read ended with %v, want os.ErrDeadlineExceeded", r.err)
				}
				if took := r.at.Sub(start); took < tt.cutAfter || took > tt.cutAfter+tt.slack {
					t.Fatalf("read cut after %v, want between %v and %v", took, tt.cutAfter, tt.cutAfter+tt.slack)
				}
			case <-time.After(tt.cutAfter + time.Second):
				t.Fatalf("read not cut %v after its deadline", time.Second)
			}
		})
	}
}

func TestReadWorksAgainAfterACut(t *testing.T) {
	_, server, client := pair(t, 10*time.Millisecond)
	_ = server.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if r := <-blockedRead(server); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("first read: %v, want a timeout", r.err)
	}
	// As net/http does after a timeout it recovers from: clear, then read.
	if err := server.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(server, buf); err != nil || buf[0] != 'x' {
		t.Fatalf("read after clearing the deadline: %q, %v", buf, err)
	}
}

func TestWriteDeadlineCutsAStuckWrite(t *testing.T) {
	_, server, _ := pair(t, 10*time.Millisecond)
	// The client never reads: the socket buffers fill and Write blocks.
	_ = server.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	chunk := make([]byte, 1<<20)
	var err error
	for range 256 {
		if _, err = server.Write(chunk); err != nil {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write: %v, want os.ErrDeadlineExceeded", err)
	}
}

func TestClosedConnectionsAreForgotten(t *testing.T) {
	l, server, _ := pair(t, 10*time.Millisecond)
	if n := watched(l); n != 1 {
		t.Fatalf("%d connections watched, want 1", n)
	}
	_ = server.Close()
	if n := watched(l); n != 0 {
		t.Fatalf("%d connections watched after close, want 0", n)
	}
}

func watched(l *Listener) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// TestConcurrentDeadlines sets deadlines from many goroutines while the
// watcher runs: under -race this is the check on the locking.
func TestConcurrentDeadlines(t *testing.T) {
	_, server, _ := pair(t, 5*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 2000 {
				d := time.Duration(i*j%7) * time.Millisecond
				_ = server.SetReadDeadline(time.Now().Add(d))
				_ = server.SetWriteDeadline(time.Now().Add(d))
			}
		})
	}
	wg.Wait()
}

func TestResolution(t *testing.T) {
	for _, tt := range []struct{ shortest, want time.Duration }{
		{5 * time.Second, 250 * time.Millisecond},
		{2 * time.Second, 100 * time.Millisecond},
		{300 * time.Millisecond, 15 * time.Millisecond},
		{time.Millisecond, 5 * time.Millisecond},
	} {
		if got := Resolution(tt.shortest); got != tt.want {
			t.Errorf("Resolution(%v) = %v, want %v", tt.shortest, got, tt.want)
		}
	}
}
