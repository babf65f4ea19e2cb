package main

import (
	"io"
	"sync"
	"time"
)

// Sizes of the log buffer: it is written out when it holds logFlushAt bytes
// (or every interval), and a writer that finds logMaxBuffered waiting writes
// it out itself rather than let the buffer grow without bound.
const (
	logFlushAt     = 64 << 10
	logMaxBuffered = 8 << 20
)

// logWriter collects log lines in memory and a goroutine of its own writes
// them out, every interval or sooner when a batch is full. A request that
// logs only appends to a buffer: it never waits for a write system call,
// neither its own line's nor a full buffer's flush. Close writes out the rest.
type logWriter struct {
	out io.Writer

	mu    sync.Mutex // guards buf and spare
	buf   []byte     // lines waiting
	spare []byte     // the other buffer, reused

	writeMu sync.Mutex // one write to out at a time
	err     error      // the first write error, reported by Close

	kick chan struct{} // a batch is full
	stop chan struct{}
	done chan struct{}
}

func newLogWriter(out io.Writer, interval time.Duration) *logWriter {
	l := &logWriter{out: out, buf: make([]byte, 0, logFlushAt), spare: make([]byte, 0, logFlushAt),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-l.kick:
			case <-l.stop:
				return
			}
			_ = l.Flush()
		}
	}()
	return l
}

// Write implements io.Writer. It keeps p; it never blocks on the output
// unless logMaxBuffered bytes are already waiting.
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if len(l.buf)+len(p) > logMaxBuffered {
		l.mu.Unlock()
		_ = l.Flush()
		l.mu.Lock()
	}
	l.buf = append(l.buf, p...)
	full := len(l.buf) >= logFlushAt
	l.mu.Unlock()
	if full {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes out what is waiting.
func (l *logWriter) Flush() error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	batch := l.buf
	l.buf = l.spare[:0]
	l.mu.Unlock()
	if len(batch) > 0 {
		if _, err := l.out.Write(batch); err != nil && l.err == nil {
			l.err = err
		}
	}
	l.mu.Lock()
	l.spare = batch[:0]
	l.mu.Unlock()
	return l.err
}

// Close stops the background writes and writes out the rest.
func (l *logWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.Flush()
}
