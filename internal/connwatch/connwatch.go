// Package connwatch enforces connection deadlines with one watcher goroutine
// instead of a runtime timer per deadline.
//
// net/http sets up to four deadlines on a connection for every request when
// its server has timeouts (idle, header, whole request, write), and each one
// is a timer in the runtime: measured under load on the mock server, 4.7% of
// its CPU went to setting them. A connection accepted through a Listener
// only records a future deadline (one uncontended lock); the watcher wakes
// every resolution and cuts the reads and writes whose deadline has passed,
// by setting a real deadline in the past, so the blocked call returns the
// same timeout error (os.ErrDeadlineExceeded) it would have returned at the
// deadline itself. A deadline therefore fires up to one resolution late,
// never early. A deadline already in the past, such as the one net/http uses
// to interrupt a pending read, takes effect at once.
package connwatch

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Listener is a net.Listener whose connections' deadlines the watcher enforces.
type Listener struct {
	net.Listener
	resolution time.Duration
	now        atomic.Int64 // the watcher's clock, Unix nanoseconds, at most one resolution behind

	mu    sync.Mutex // guards conns
	conns map[*conn]struct{}

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// Listen wraps ln and starts the watcher, which runs until Stop.
func Listen(ln net.Listener, resolution time.Duration) *Listener {
	l := &Listener{Listener: ln, resolution: resolution, conns: make(map[*conn]struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	l.now.Store(time.Now().UnixNano())
	go l.watch()
	return l
}

// Resolution is how late a deadline may fire for timeouts as short as
// shortest: a twentieth of it, between 5 ms and 250 ms.
func Resolution(shortest time.Duration) time.Duration {
	return min(max(shortest/20, 5*time.Millisecond), 250*time.Millisecond)
}

// Accept implements net.Listener.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	wc := &conn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[wc] = struct{}{}
	l.mu.Unlock()
	return wc, nil
}

// Stop ends the watcher. Call it once the connections are done with (after
// http.Server.Shutdown): Close only stops accepting, and the connections
// still open go on being watched.
func (l *Listener) Stop() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
}

func (l *Listener) watch() {
	defer close(l.done)
	tick := time.NewTicker(l.resolution)
	defer tick.Stop()
	var due []*conn
	for {
		select {
		case <-l.stop:
			return
		case t := <-tick.C:
			now := t.UnixNano()
			l.now.Store(now)
			l.mu.Lock()
			for c := range l.conns {
				due = append(due, c)
			}
			l.mu.Unlock()
			for i, c := range due {
				c.expire(now)
				due[i] = nil
			}
			due = due[:0]
		}
	}
}

// conn is an accepted connection whose future deadlines are only recorded.
type conn struct {
	net.Conn
	l *Listener

	mu          sync.Mutex // guards the fields below and the real deadlines
	read, write int64      // recorded deadlines, Unix nanoseconds; 0 for none
	readCut     bool       // the real read deadline is in the past
	writeCut    bool       // the real write deadline is in the past
}

// aLongTimeAgo is a deadline that has passed: setting it makes a blocked
// call return at once with a timeout error.
var aLongTimeAgo = time.Unix(1, 0)

// SetDeadline implements net.Conn.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.l.record(t, &c.read, &c.readCut, c.Conn.SetReadDeadline)
}

// SetWriteDeadline implements net.Conn.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.l.record(t, &c.write, &c.writeCut, c.Conn.SetWriteDeadline)
}

// record notes deadline t, or sets it on the connection when it has already
// passed. The caller holds the connection's lock.
func (l *Listener) record(t time.Time, deadline *int64, cut *bool, set func(time.Time) error) error {
	if !t.IsZero() {
		at := t.UnixNano()
		// The watcher's clock lags; near it, ask the real one.
		if now := l.now.Load(); at <= now || (at <= now+int64(l.resolution) && !t.After(time.Now())) {
			*deadline, *cut = 0, true
			return set(t)
		}
	}
	*deadline = 0
	if !t.IsZero() {
		*deadline = t.UnixNano()
	}
	if *cut {
		*cut = false
		return set(time.Time{})
	}
	return nil
}

// expire cuts the reads and writes whose recorded deadline is at or before now.
func (c *conn) expire(now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read != 0 && c.read <= now {
		c.read, c.readCut = 0, true
		_ = c.Conn.SetReadDeadline(aLongTimeAgo)
	}
	if c.write != 0 && c.write <= now {
		c.write, c.writeCut = 0, true
		_ = c.Conn.SetWriteDeadline(aLongTimeAgo)
	}
}

// Close implements net.Conn; the connection is no longer watched.
func (c *conn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite half-closes the connection when the underlying one can, as
// net/http does before closing a connection it answered with an error.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom lets io.Copy into the connection use the underlying one's
// optimisations (sendfile, splice) when it has them.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
