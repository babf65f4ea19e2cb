package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connector-group/members-api/server"
)

// textOf renders r with slog's own TextHandler, the reference.
func textOf(t testing.TB, r slog.Record) string {
	t.Helper()
	var buf bytes.Buffer
	if err := slog.NewTextHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// viaTextHandler renders r with textHandler, the fast path where it applies.
func viaTextHandler(t testing.TB, r slog.Record) string {
	t.Helper()
	var buf bytes.Buffer
	if err := newTextHandler(&buf).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func FuzzTextHandler(f *testing.F) {
	f.Add(int64(1764370602123456789), 0, "request", "path", "/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref", int64(204), int64(190042))
	f.Add(int64(0), 4, "listening", "addr", "http://127.0.0.1:8080", int64(-1), int64(0))
	f.Add(int64(1), -4, "a b", "k=v", `"quoted"`, int64(0), int64(-5))
	f.Add(int64(2), 8, "naïve", "", "tab\there", int64(1), int64(1))
	shared := newTextHandler(io.Discard) // its clock carries from one input to the next
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -7*3600)}
	f.Fuzz(func(t *testing.T, nanos int64, level int, msg, key, value string, n, d int64) {
		at := time.Unix(0, nanos).In(zones[uint64(n)%uint64(len(zones))])
		// Two lines, often in the same second: the second takes the cached one.
		for _, when := range []time.Time{at, at.Add(time.Duration(d % int64(2*time.Second)))} {
			r := slog.NewRecord(when, slog.Level(level), msg, 0)
			r.AddAttrs(slog.String(key, value), slog.Int64("n", n), slog.Duration("d", time.Duration(d)),
				slog.Bool("b", n%2 == 0), slog.Uint64("u", uint64(d)))
			want := textOf(t, r)
			if got := viaTextHandler(t, r); got != want {
				t.Fatalf("\n got %q\nwant %q", got, want)
			}
			if line, ok := shared.appendPlainLine(nil, r); ok && string(line) != want {
				t.Fatalf("with the clock of earlier lines:\n got %q\nwant %q", line, want)
			}
		}
	})
}

// TestTextHandlerTimes: one handler, lines in the same second, the next
// second, another zone and years its cache does not take, each as the
// TextHandler writes it.
func TestTextHandlerTimes(t *testing.T) {
	h := newTextHandler(io.Discard)
	base := time.Date(2026, 11, 28, 22, 56, 42, 0, time.UTC)
	for _, at := range []time.Time{
		base, base.Add(123 * time.Millisecond), base.Add(999999999), base.Add(time.Second),
		base.Add(time.Second).In(time.FixedZone("plus", 3600)), base.Add(time.Second + 5*time.Millisecond),
		base.In(time.Local), time.Date(10000, 1, 1, 0, 0, 0, 7e6, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		base.Add(-time.Nanosecond),
	} {
		r := record(at, slog.String("k", "v"))
		line, ok := h.appendPlainLine(nil, r)
		if want := textOf(t, r); !ok || string(line) != want {
			t.Errorf("%v:\n got %q (%v)\nwant %q", at, line, ok, want)
		}
	}
}

func TestTextHandlerFallsBack(t *testing.T) {
	now := time.Now()
	for name, r := range map[string]slog.Record{
		"group":       record(now, slog.Group("g", slog.String("a", "b"))),
		"any":         record(now, slog.Any("err", context.Canceled)),
		"float":       record(now, slog.Float64("f", 1.5)),
		"time":        record(now, slog.Time("t", now)),
		"quoted":      record(now, slog.String("k", "two words")),
		"empty value": record(now, slog.String("k", "")),
		"zero time":   record(time.Time{}, slog.String("k", "v")),
	} {
		if got, want := viaTextHandler(t, r), textOf(t, r); got != want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	// WithAttrs and WithGroup are the TextHandler's own.
	var buf bytes.Buffer
	slog.New(newTextHandler(&buf)).With("component", "x").WithGroup("g").Info("m", "k", "v")
	if !strings.Contains(buf.String(), "level=INFO msg=m component=x g.k=v") {
		t.Errorf("With and WithGroup: %q", buf.String())
	}
}

func record(t time.Time, attrs ...slog.Attr) slog.Record {
	r := slog.NewRecord(t, slog.LevelInfo, "m", 0)
	r.AddAttrs(attrs...)
	return r
}

// recordingHandler keeps what the server logs.
type recordingHandler struct{ records []slog.Record }

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

// TestRequestLineTakesTheFastPath: the line the server writes for each
// request is one the fast path writes (else the optimisation is silently
// gone), and it is the TextHandler's line.
func TestRequestLineTakesTheFastPath(t *testing.T) {
	rec := &recordingHandler{}
	h, err := server.New(server.Config{Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodPost, "/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref",
			strings.NewReader(`{"externalIp":"203.0.113.7","machineName":"m","status":"active"}`)),
		httptest.NewRequest(http.MethodGet, "/healthz", nil),
	} {
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(rec.records) != 2 {
		t.Fatalf("%d records logged, want one per request", len(rec.records))
	}
	for _, r := range rec.records {
		line, ok := newTextHandler(io.Discard).appendPlainLine(nil, r)
		if !ok {
			t.Errorf("the request line %q does not take the fast path", textOf(t, r))
			continue
		}
		if got, want := string(line), textOf(t, r); got != want {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
	}
}

func BenchmarkRequestLine(b *testing.B) {
	start := time.Now()
	line := func(h slog.Handler) {
		now := time.Now()
		r := slog.NewRecord(now, slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("method", "POST"),
			slog.String("path", "/applications/0f8fad5b-d9cb-469f-a165-70867728950e/connectorGroup/members/$ref"),
			slog.Int("status", 204), slog.Duration("duration", now.Sub(start)),
			slog.String("request_id", "fd0bb502-d439-48d4-bb5c-f6fef2979699"))
		_ = h.Handle(context.Background(), r)
	}
	b.Run("slog.TextHandler", func(b *testing.B) {
		h := slog.NewTextHandler(io.Discard, nil)
		b.ReportAllocs()
		for b.Loop() {
			line(h)
		}
	})
	b.Run("textHandler", func(b *testing.B) {
		h := newTextHandler(io.Discard)
		b.ReportAllocs()
		for b.Loop() {
			line(h)
		}
	})
}
