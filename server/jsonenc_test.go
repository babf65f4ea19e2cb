package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/connector-group/members-api/generated"
)

// encodingJSON is what the server wrote before the compiled encoder: Echo's
// JSON through an Encoder with HTML escaping off.
func encodingJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func compiled(t testing.TB, v any) []byte {
	t.Helper()
	rv := reflect.ValueOf(v)
	enc, ok := compileJSON(rv.Type().Elem())
	if !ok {
		t.Fatalf("compileJSON declined %s", rv.Type().Elem())
	}
	return enc(nil, rv.Elem())
}

// tricky strings: everything encoding/json escapes, and what it leaves alone.
var tricky = []string{
	"", "plain", `value "String" is not one of active, inactive`, `back\slash`, "tab\there", "new\nline\r\n",
	"\b\f\x00\x01\x1f\x7f", "<html> & 'quotes'", "naïve café ✓", "emoji 😀", "\u2028 and \u2029",
	"invalid \xff\xfe utf-8", "truncated \xe2\x82", "/externalIp", "~0~1", "$ref?$top=1&$skiptoken=x",
}

func TestJSONEncoderMatchesEncodingJSON(t *testing.T) {
	date := time.Date(2026, 11, 28, 22, 56, 42, 0, time.UTC)
	id := uuid.MustParse("fd0bb502-d439-48d4-bb5c-f6fef2979699")
	for _, s := range tricky {
		target, cid := s, s
		envelopes := map[string]generated.ODataError{
			"minimal": {Error: generated.MainError{Code: generated.ErrorCodeRequestResourceNotFound, Message: s,
				InnerError: generated.InnerError{Date: date, RequestID: id}}},
			"everything": {Error: generated.MainError{Code: generated.ErrorCode(s), Message: s, Target: &target,
				Details: &[]generated.ErrorDetail{
					{Code: generated.ErrorCodeRequestBadRequest, Message: s, Target: &target},
					{Code: generated.ErrorCodeRequestBadRequest, Message: "no target"},
				},
				InnerError: generated.InnerError{Date: date.Add(123456789 * time.Nanosecond).In(time.FixedZone("x", 3600)),
					RequestID: id, ClientRequestID: &cid}}},
			"empty details": {Error: generated.MainError{Details: &[]generated.ErrorDetail{}}},
		}
		for name, e := range envelopes {
			if got, want := compiled(t, &e), encodingJSON(t, e); !bytes.Equal(got, want) {
				t.Errorf("%s, %q:\n got %s\nwant %s", name, s, got, want)
			}
		}
	}
}

// TestJSONEncoderKinds covers what the envelope does not use today but a
// change to it in the spec could bring: nil pointers and slices without
// omitempty, untagged fields, nested structs; and the types the encoder must
// decline so that encoding/json handles them.
func TestJSONEncoderKinds(t *testing.T) {
	type inner struct {
		A string `json:"a,omitempty"`
		B *string
	}
	type outer struct {
		Name    string     `json:"name"`
		Ptr     *string    `json:"ptr"`
		List    []string   `json:"list"`
		Structs []inner    `json:"structs,omitempty"`
		Nested  inner      `json:"nested"`
		NilPtr  *inner     `json:"nilPtr"`
		When    *time.Time `json:"when,omitempty"`
		ID      *uuid.UUID `json:"id"`
	}
	s, id, when := "x\"y", uuid.New(), time.Now()
	for _, v := range []outer{
		{},
		{Name: "n", Ptr: &s, List: []string{}, Structs: []inner{{A: "a"}, {B: &s}}, NilPtr: &inner{}, When: &when, ID: &id},
		{List: []string{"a", "b\n"}, Nested: inner{A: "<>"}},
	} {
		if got, want := compiled(t, &v), encodingJSON(t, v); !bytes.Equal(got, want) {
			t.Errorf("%+v:\n got %s\nwant %s", v, got, want)
		}
	}

	type embedded struct{ inner }
	type named string
	for _, typ := range []reflect.Type{
		reflect.TypeFor[struct{ N int }](),
		reflect.TypeFor[struct{ B bool }](),
		reflect.TypeFor[struct{ M map[string]string }](),
		reflect.TypeFor[struct{ I any }](),
		reflect.TypeFor[embedded](),
		reflect.TypeFor[struct {
			S string `json:"s,string"`
		}](),
		// Two fields with one name (built at run time: vet and staticcheck rightly refuse such tags in source).
		reflect.StructOf([]reflect.StructField{
			{Name: "A", Type: reflect.TypeFor[string](), Tag: `json:"same"`},
			{Name: "B", Type: reflect.TypeFor[string](), Tag: `json:"same"`},
		}),
		// A name with a quote in it (built at run time, like the case above).
		reflect.StructOf([]reflect.StructField{{Name: "Q", Type: reflect.TypeFor[string](), Tag: `json:"a\"b"`}}),
		reflect.TypeFor[struct{ R json.RawMessage }](),
		reflect.TypeFor[struct{ T textName }](),
		reflect.TypeFor[struct{ hidden string }](),
	} {
		if _, ok := compileJSON(typ); ok {
			t.Errorf("compileJSON accepted %s; it must leave it to encoding/json", typ)
		}
	}
	if _, ok := compileJSON(reflect.TypeFor[named]()); !ok {
		t.Error("compileJSON declined a named string type")
	}
}

// textName has its own text encoding, which encoding/json would use.
type textName string

func (n textName) MarshalText() ([]byte, error) { return []byte("<" + n + ">"), nil }

// TestEnvelopeIsCompiled: the generated envelope is one the compiled encoder
// takes. If a change to the spec's envelope makes this fail, errors are still
// right (encoding/json writes them) but slower: teach compileJSON the new kind.
func TestEnvelopeIsCompiled(t *testing.T) {
	if _, ok := compileJSON(reflect.TypeFor[generated.ODataError]()); !ok {
		t.Fatal("compileJSON declines generated.ODataError: error responses fall back to encoding/json")
	}
}

func FuzzJSONEncoder(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, s, int64(0))
	}
	f.Fuzz(func(t *testing.T, message, target, clientID string, nanos int64) {
		date := time.Unix(0, nanos).UTC() // years 1677-2262: within what MarshalJSON takes
		e := generated.ODataError{Error: generated.MainError{Code: generated.ErrorCode(target), Message: message, Target: &target,
			Details:    &[]generated.ErrorDetail{{Code: generated.ErrorCodeRequestBadRequest, Message: message, Target: &target}},
			InnerError: generated.InnerError{Date: date, RequestID: uuid.New(), ClientRequestID: &clientID}}}
		if got, want := compiled(t, &e), encodingJSON(t, e); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkEnvelopeEncoding(b *testing.B) {
	target1, target2 := "/externalIp", "/status"
	e := generated.ODataError{Error: generated.MainError{Code: generated.ErrorCodeRequestBadRequest,
		Message: `value "String" is not a valid ipv4 or ipv6`, Target: &target1,
		Details: &[]generated.ErrorDetail{
			{Code: generated.ErrorCodeRequestBadRequest, Message: `value "String" is not a valid ipv4 or ipv6`, Target: &target1},
			{Code: generated.ErrorCodeRequestBadRequest, Message: `value "String" is not one of active, inactive`, Target: &target2},
		},
		InnerError: generated.InnerError{Date: time.Now().UTC().Truncate(time.Second), RequestID: uuid.New()}}}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(e)
		}
	})
	b.Run("compiled", func(b *testing.B) {
		enc, _ := compileJSON(reflect.TypeFor[generated.ODataError]())
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			body := e
			buf = enc(buf[:0], reflect.ValueOf(&body).Elem())
		}
	})
}
