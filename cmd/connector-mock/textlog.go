package main

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// textHandler is slog's TextHandler with a fast path for the line the server
// writes for every request. Under load, the TextHandler's general machinery
// (a quoting check per key and value, attribute resolution, its own lock)
// cost about 1 µs a request, 5% of the server's CPU (pprof under wrk). A
// record whose message, keys and string values need no quoting, with only
// string, integer, boolean and duration attributes, is written here directly,
// in exactly the bytes the TextHandler would write (FuzzTextHandler compares
// the two); any other record, and every handler made by WithAttrs or
// WithGroup, is the TextHandler's.
//
// w must accept concurrent writes of whole lines, as logWriter does: the
// fast path writes each line with one Write, without the TextHandler's lock.
type textHandler struct {
	text  *slog.TextHandler
	w     io.Writer
	clock atomic.Pointer[formattedSecond] // the second the last line was in, formatted
}

// formattedSecond is one second of a location, formatted as the TextHandler
// writes times: the lines of a second differ only in their milliseconds, so
// the rest is formatted once a second instead of once a line.
type formattedSecond struct {
	unix   int64
	loc    *time.Location
	prefix string // 2006-01-02T15:04:05
	zone   string // Z or -07:00
}

func newTextHandler(w io.Writer) *textHandler {
	return &textHandler{text: slog.NewTextHandler(w, nil), w: w}
}

// Enabled implements slog.Handler.
func (h *textHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.text.Enabled(ctx, level)
}

// WithAttrs implements slog.Handler.
func (h *textHandler) WithAttrs(attrs []slog.Attr) slog.Handler { return h.text.WithAttrs(attrs) }

// WithGroup implements slog.Handler.
func (h *textHandler) WithGroup(name string) slog.Handler { return h.text.WithGroup(name) }

// Handle implements slog.Handler.
func (h *textHandler) Handle(ctx context.Context, r slog.Record) error {
	buf := lineBuffers.Get().(*[]byte)
	defer lineBuffers.Put(buf)
	line, ok := h.appendPlainLine((*buf)[:0], r)
	*buf = line
	if !ok {
		return h.text.Handle(ctx, r)
	}
	_, err := h.w.Write(line)
	return err
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendPlainLine appends r as the TextHandler (default options, no groups)
// writes it, or reports false when r has something only the TextHandler
// knows how to write.
func (h *textHandler) appendPlainLine(b []byte, r slog.Record) ([]byte, bool) {
	if !r.Time.IsZero() {
		b = append(b, "time="...)
		b = h.appendTime(b, r.Time.Round(0))
		b = append(b, ' ')
	}
	level := r.Level.String()
	if !plain(level) || !plain(r.Message) {
		return b, false
	}
	b = append(b, "level="...)
	b = append(b, level...)
	b = append(b, " msg="...)
	b = append(b, r.Message...)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		if !plain(a.Key) {
			ok = false
			return false
		}
		b = append(b, ' ')
		b = append(b, a.Key...)
		b = append(b, '=')
		switch v := a.Value; v.Kind() {
		case slog.KindString:
			if ok = plain(v.String()); ok {
				b = append(b, v.String()...)
			}
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindUint64:
			b = strconv.AppendUint(b, v.Uint64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		case slog.KindDuration:
			b = append(b, v.Duration().String()...)
		default:
			ok = false
		}
		return ok
	})
	return append(b, '\n'), ok
}

// plain reports whether the TextHandler writes s as it is: not empty, and
// printable ASCII without space, quote, equals sign or backslash. (It would
// write some others bare too; those take the TextHandler's path.)
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '=' || c == '\\' {
			return false
		}
	}
	return true
}

// appendTime appends t as appendRFC3339Millis does, from the second it is
// in when that is the second of the last line.
func (h *textHandler) appendTime(b []byte, t time.Time) []byte {
	if s := h.clock.Load(); s != nil && s.unix == t.Unix() && s.loc == t.Location() {
		ms := t.Nanosecond() / int(time.Millisecond)
		b = append(b, s.prefix...)
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		return append(b, s.zone...)
	}
	n := len(b)
	b = appendRFC3339Millis(b, t)
	const prefixLen = len("2006-01-02T15:04:05")
	if formatted := b[n:]; len(formatted) > prefixLen+4 && formatted[prefixLen] == '.' { // years 0-9999
		h.clock.Store(&formattedSecond{unix: t.Unix(), loc: t.Location(),
			prefix: string(formatted[:prefixLen]), zone: string(formatted[prefixLen+4:])})
	}
	return b
}

// appendRFC3339Millis is the TextHandler's time format: RFC 3339 with
// exactly three digits of milliseconds (log/slog's own function, which it
// does not export).
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...) // drop the fourth digit
}
