// Package journal keeps the last requests the mock answered, packed in a
// bounded ring, for tests to ask what their code sent.
package journal

import (
	"encoding/binary"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/internal/reqcheck"
)

// DefaultSize is how many requests the journal keeps unless told otherwise.
const DefaultSize = 10_000

// Entry is one request the mock received, and how it answered: what
// a test asserts its code sent. The Authorization header is never kept.
type Entry struct {
	Time            time.Time
	RequestID       uuid.UUID
	ClientRequestID string
	Method          string
	Path            string // without the query, cut at 2 KiB
	Operation       string // the operationId; empty for a request that matched none
	ApplicationID   string // the path's applicationsId, when it had one
	Status          int
	ErrorCode       string   // error.code of a non-2xx answer
	Targets         []string // the violations' targets
	Fault           int      // the status of a fault injected on purpose, or 0
	Duration        time.Duration
	UserAgent       string
	Headers         map[string]string // Content-Encoding, Prefer, Retry-Attempt, SdkVersion, Batch-Request-Id, when sent
	Body            string            // as text, decompressed, cut at 4 KiB
	BodyTruncated   bool              // the body was longer than Body
	// ResponseHeaders are the answer's header fields (the first 16 by name,
	// each value cut at 256 bytes).
	ResponseHeaders       map[string]string
	ResponseBody          string // as text, cut at 4 KiB
	ResponseBodyTruncated bool   // the answer's body was longer than ResponseBody
	// Proxied says the service answered (proxy mode); Disagreements are
	// where the exchange and the spec differ (the first 20).
	Proxied       bool
	Disagreements []Disagreement
}

// Disagreement is one place where a proxied exchange and the spec differ.
type Disagreement struct {
	Direction string // "request" or "response"
	Pointer   string // a JSON pointer into the body, "status", or "header <name>"
	Spec      string // what the spec says there
	Arrived   string // what arrived there
}

// Filter selects journal entries; a zero field selects everything.
type Filter struct {
	ApplicationID string
	// Operation, when not nil, is the operationId to match ("" for requests
	// that matched no operation).
	Operation *string
	Status    int
	// Disagreements selects the entries with disagreements only.
	Disagreements bool
	// Top is the most entries to return; 0 for all.
	Top int
}

// What one entry keeps at the most, so that the journal's memory is bounded
// whatever clients send: with 10,000 entries, some 230 MiB at the very worst
// (the request's parts 14 KiB, the answer's 9 KiB).
const (
	journalBody            = 4 << 10
	journalPath            = 2 << 10
	journalText            = 256 // user agent, client-request-id, header values
	journalTargets         = 20
	journalTargetText      = 256
	journalResponseHeaders = 16 // the mock's answers have fewer than 10
	journalHeaderName      = 64
)

// journaledHeaders are the request headers an entry keeps: the key net/http
// files each under (canonical, so it is looked up without canonicalising) and
// the name an entry gives it, as admin.yaml and the Graph SDKs spell it
// (net/http's canonical form of SdkVersion is Sdkversion).
var journaledHeaders = [...]struct{ key, name string }{
	{"Content-Encoding", "Content-Encoding"}, {"Prefer", "Prefer"}, {"Retry-Attempt", "Retry-Attempt"}, {"Sdkversion", "SdkVersion"},
	{"Batch-Request-Id", "Batch-Request-Id"}, // the batch's request-id, on each request of a JSON batch
}

// fieldValue is header name's value as RFC 9110 (5.3) reads several field
// lines of one name: joined with commas. The headers an entry keeps are
// lists (Prefer may come over several lines), none is lost.
func fieldValue(h http.Header, name string) string {
	switch v := h[name]; len(v) {
	case 0:
		return ""
	case 1:
		return v[0]
	default:
		return strings.Join(v, ", ")
	}
}

// first is the first value of header name, given canonical.
func first(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Journal is a ring of the last entries. It is safe for concurrent use; a
// request holds its lock only to put an entry in its slot.
//
// Each entry is kept packed in one byte slice (pack): a slot holds one
// pointer, to bytes the garbage collector does not look into, where Entry
// values would be some fifteen pointers each for every collection to mark.
type Journal struct {
	mu    sync.Mutex
	slots [][]byte
	total uint64 // entries ever added: entry n (from 0) is in slot n % size until overwritten
	size  int    // entries kept at the most; 0 keeps none
}

// New keeps the last size entries; size 0 keeps none.
func New(size int) *Journal {
	return &Journal{size: size} // slots grow as entries come: most journals (a mock per test) stay small
}

// Enabled tells whether the journal keeps anything.
func (j *Journal) Enabled() bool { return j.size > 0 }

// Add keeps r, dropping the oldest entry when the journal is full.
func (j *Journal) Add(r *Request) {
	if j.size == 0 {
		return
	}
	packed := pack(r)
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.slots) < j.size {
		j.slots = append(j.slots, packed)
	} else {
		j.slots[j.total%uint64(j.size)] = packed
	}
	j.total++
}

// batch is how many entries Each takes under the lock at a time.
const batch = 64

// Each calls emit with the entries that pass f, newest first, up to f.Top
// (all when 0), until emit returns an error, which Each returns. It holds
// the lock only to take a batch of entries at a time and unpacks one entry at
// a time, so it costs memory in proportion to an entry, not to the journal;
// an entry added meanwhile is not listed, and one overwritten meanwhile ends
// the listing (it was the oldest left).
func (j *Journal) Each(f Filter, emit func(Entry) error) error {
	j.mu.Lock()
	next := j.total // entries below next, newest first
	j.mu.Unlock()
	emitted := 0
	var taken [batch][]byte
	for next > 0 {
		j.mu.Lock()
		next = min(next, j.total)                        // emptied meanwhile
		oldest := j.total - min(j.total, uint64(j.size)) // the oldest entry still kept
		n := 0
		for ; n < batch && next > oldest; n++ {
			next--
			taken[n] = j.slots[next%uint64(j.size)]
		}
		j.mu.Unlock()
		if n == 0 {
			return nil
		}
		for _, p := range taken[:n] {
			e := unpackEntry(p)
			if f.ApplicationID != "" && !strings.EqualFold(e.ApplicationID, f.ApplicationID) ||
				f.Operation != nil && e.Operation != *f.Operation ||
				f.Status != 0 && e.Status != f.Status || f.Disagreements && len(e.Disagreements) == 0 {
				continue
			}
			if err := emit(e); err != nil {
				return err
			}
			if emitted++; f.Top > 0 && emitted == f.Top {
				return nil
			}
		}
		clear(taken[:n])
	}
	return nil
}

// List returns the entries that pass f, newest first: Each, collected.
func (j *Journal) List(f Filter) []Entry {
	out := []Entry{}
	_ = j.Each(f, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out
}

// Clear empties the journal.
func (j *Journal) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.slots)
	j.slots = j.slots[:0]
	j.total = 0
}

// Request is an answered request as the journal is given it.
type Request struct {
	Time            time.Time
	ID              uuid.UUID
	ClientRequestID string // the caller's, as the answer echoed it
	Method          string
	Path            string
	Header          http.Header // the request's header: the user agent and the headers kept are read from it
	Operation       string
	ApplicationID   string
	Status          int
	ErrorCode       string
	Violations      []reqcheck.Violation
	Fault           int
	Duration        time.Duration
	Body            []byte // as read, decompressed
	// ResponseHeader is the answer's header, as sent.
	ResponseHeader http.Header
	// ResponseBody is the start of the answer's body (a journal keeps no
	// more than 4 KiB of it); ResponseTruncated says the body went on.
	ResponseBody      []byte
	ResponseTruncated bool
	Proxied           bool
	Disagreements     []Disagreement
}

// ResponseBodyLimit is how much of an answer's body an entry keeps: a
// Recorder of the answer need keep no more.
const ResponseBodyLimit = journalBody

// pack writes the entry of r as bytes: the fixed-size fields, then every
// string length-prefixed (cut to its bound), then the targets and the
// headers, each counted. One allocation: this runs on every request.
func pack(r *Request) []byte {
	strs := [...]string{
		cut(r.ClientRequestID, journalText), r.Method, cut(r.Path, journalPath), r.Operation,
		cut(r.ApplicationID, journalText), r.ErrorCode, cut(first(r.Header, "User-Agent"), journalText),
	}
	body := r.Body[:min(len(r.Body), journalBody)]
	responseBody := r.ResponseBody[:min(len(r.ResponseBody), journalBody)]
	size := 56 + len(body) + len(responseBody)
	for _, s := range strs {
		size += 3 + len(s)
	}
	targets := min(len(r.Violations), journalTargets)
	for i := range targets {
		size += 3 + min(len(r.Violations[i].Target), journalTargetText)
	}
	var headers [len(journaledHeaders)]string
	nHeaders := 0
	for i, h := range journaledHeaders {
		if v := fieldValue(r.Header, h.key); v != "" {
			headers[i] = cut(v, journalText)
			nHeaders++
			size += 4 + len(h.name) + len(headers[i])
		}
	}
	// The first header fields by name, on the stack: this runs on every request.
	var nameBuf [journalResponseHeaders]string
	names := nameBuf[:0]
	for name := range r.ResponseHeader {
		if len(names) < journalResponseHeaders {
			names = append(names, name)
		} else if last := slices.Max(names); name < last {
			names[slices.Index(names, last)] = name
		}
	}
	slices.Sort(names)
	var valueBuf [journalResponseHeaders]string
	values := valueBuf[:len(names)]
	for i, name := range names {
		values[i] = cut(fieldValue(r.ResponseHeader, name), journalText)
		size += 4 + min(len(name), journalHeaderName) + len(values[i])
	}
	disagreements := r.Disagreements[:min(len(r.Disagreements), journalTargets)]
	for _, d := range disagreements {
		size += 12 + len(d.Direction) + min(len(d.Pointer), journalTargetText) + min(len(d.Spec), journalText) + min(len(d.Arrived), journalText)
	}
	b := make([]byte, 0, size)
	b = binary.AppendVarint(b, r.Time.UnixNano())
	b = append(b, r.ID[:]...)
	b = binary.AppendUvarint(b, uint64(r.Status))
	b = binary.AppendUvarint(b, uint64(r.Fault))
	b = binary.AppendVarint(b, int64(r.Duration))
	for _, s := range strs {
		b = appendString(b, s)
	}
	b = append(binary.AppendUvarint(b, uint64(len(body))), body...)
	b = binary.AppendUvarint(b, uint64(targets))
	for i := range targets {
		b = appendString(b, cut(r.Violations[i].Target, journalTargetText))
	}
	b = binary.AppendUvarint(b, uint64(nHeaders))
	for i, h := range journaledHeaders {
		if headers[i] != "" {
			b = appendString(appendString(b, h.name), headers[i])
		}
	}
	var flags byte
	if len(r.Body) > len(body) {
		flags |= 1
	}
	if r.ResponseTruncated || len(r.ResponseBody) > len(responseBody) {
		flags |= 2
	}
	if r.Proxied {
		flags |= 4
	}
	b = append(b, flags)
	b = append(binary.AppendUvarint(b, uint64(len(responseBody))), responseBody...)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for i, name := range names {
		b = appendString(appendString(b, cut(name, journalHeaderName)), values[i])
	}
	b = binary.AppendUvarint(b, uint64(len(disagreements)))
	for _, d := range disagreements {
		b = appendString(b, d.Direction)
		b = appendString(b, cut(d.Pointer, journalTargetText))
		b = appendString(b, cut(d.Spec, journalText))
		b = appendString(b, cut(d.Arrived, journalText))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// unpackEntry reads what pack wrote.
func unpackEntry(b []byte) Entry {
	var e Entry
	varint := func() int64 {
		v, n := binary.Varint(b)
		b = b[n:]
		return v
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		b = b[n:]
		return v
	}
	str := func() string {
		n := uvarint()
		s := string(b[:n])
		b = b[n:]
		return s
	}
	e.Time = time.Unix(0, varint()).UTC()
	copy(e.RequestID[:], b)
	b = b[len(e.RequestID):]
	e.Status, e.Fault, e.Duration = int(uvarint()), int(uvarint()), time.Duration(varint())
	for _, p := range [...]*string{&e.ClientRequestID, &e.Method, &e.Path, &e.Operation, &e.ApplicationID, &e.ErrorCode, &e.UserAgent, &e.Body} {
		*p = str()
	}
	if n := uvarint(); n > 0 {
		e.Targets = make([]string, n)
		for i := range e.Targets {
			e.Targets[i] = str()
		}
	}
	if n := uvarint(); n > 0 {
		e.Headers = make(map[string]string, n)
		for range n {
			k := str()
			e.Headers[k] = str()
		}
	}
	flags := b[0]
	b = b[1:]
	e.BodyTruncated, e.ResponseBodyTruncated, e.Proxied = flags&1 != 0, flags&2 != 0, flags&4 != 0
	e.ResponseBody = str()
	if n := uvarint(); n > 0 {
		e.ResponseHeaders = make(map[string]string, n)
		for range n {
			k := str()
			e.ResponseHeaders[k] = str()
		}
	}
	if n := uvarint(); n > 0 {
		e.Disagreements = make([]Disagreement, n)
		for i := range e.Disagreements {
			e.Disagreements[i] = Disagreement{Direction: str(), Pointer: str(), Spec: str(), Arrived: str()}
		}
	}
	return e
}

// cut keeps at most n bytes of s, on a character boundary, as valid UTF-8.
func cut(s string, n int) string {
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
