package httplimits

import (
	"net"
	"sync"
	"sync/atomic"
)

// DefaultMaxConnections is connector-mock's --max-connections: the open
// connections it serves at once. Each costs a file descriptor and some 20 KB;
// 21,000 idle keep-alive connections once exhausted the descriptors and shut
// every new client out.
const DefaultMaxConnections = 1024

// ConnObserver is told of the connections a LimitListener opens, closes and
// refuses (the mock counts them in /metrics).
type ConnObserver interface {
	ConnOpened()
	ConnClosed()
	ConnRefused()
}

// LimitListener accepts at most max connections open at once. At the limit,
// it first asks makeRoom (which closes idle keep-alive connections: a client
// that holds many idle ones must not shut out one that has a request to
// send); a connection for which there is still no room is closed at once,
// before anything is read from it, so that its client learns it quickly
// rather than waiting in the backlog.
func LimitListener(ln net.Listener, max int, makeRoom func(), obs ConnObserver) net.Listener {
	return &limitListener{Listener: ln, max: int64(max), makeRoom: makeRoom, obs: obs}
}

type limitListener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	makeRoom func()
	obs      ConnObserver
}

// Accept returns the next connection there is room for.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max && l.makeRoom != nil {
			l.makeRoom()
		}
		if l.open.Load() > l.max {
			l.open.Add(-1)
			_ = c.Close()
			l.obs.ConnRefused()
			continue
		}
		l.obs.ConnOpened()
		return &countedConn{Conn: c, l: l}, nil
	}
}

// countedConn gives its place back once, however often it is closed.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.open.Add(-1)
		c.l.obs.ConnClosed()
	})
	return err
}

// CloseWrite keeps the half-close net/http uses to end a connection whose
// request it did not read whole, so the client reads the answer before the
// connection goes.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
