package server

import (
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The error envelope is encoded by an encoder compiled at start-up from the
// generated types, as the validator's fast path is compiled from the schema.
// encoding/json spends most of an error response's encoding time on work
// these types do not need: an Encoder per call, MarshalJSON and MarshalText
// for the date and the request-id, each result re-validated (measured: 8% of
// the CPU of a refused POST under load, 1.5 µs a response). The compiled
// encoder writes the same bytes, field names and omitempty rules read from
// the struct tags, so a change to the envelope in the spec needs no change
// here; a type it was not built for (numbers, maps, interfaces, embedded
// structs, tag options other than omitempty) makes it decline, and the
// server uses encoding/json. TestJSONEncoderMatchesEncodingJSON and
// FuzzJSONEncoder hold it to encoding/json's output, byte for byte.

// jsonEncoder appends the JSON encoding of v, as encoding/json with HTML
// escaping off would write it, without the trailing newline.
type jsonEncoder func(b []byte, v reflect.Value) []byte

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
)

// compileJSON returns the encoder of t, or false when t holds something it
// does not handle exactly as encoding/json does.
func compileJSON(t reflect.Type) (jsonEncoder, bool) {
	if t.Kind() == reflect.Pointer {
		// encoding/json writes a non-nil pointer as what it points to, even
		// through a method on the pointer (*time.Time's MarshalJSON is time.Time's).
		elem, ok := compileJSON(t.Elem())
		if !ok {
			return nil, false
		}
		return orNull(func(b []byte, v reflect.Value) []byte { return elem(b, v.Elem()) }), true
	}
	switch {
	case t == timeType:
		// time.Time.MarshalJSON: RFC 3339 with nanoseconds, for years 0-9999
		// (the envelope's date is now).
		return func(b []byte, v reflect.Value) []byte {
			b = append(b, '"')
			b = valueOf[time.Time](v).AppendFormat(b, time.RFC3339Nano)
			return append(b, '"')
		}, true
	case t == uuidType:
		return func(b []byte, v reflect.Value) []byte {
			b = append(b, '"')
			b = appendUUID(b, valueOf[uuid.UUID](v))
			return append(b, '"')
		}, true
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler):
		return nil, false
	}
	switch t.Kind() {
	case reflect.String:
		return func(b []byte, v reflect.Value) []byte { return appendJSONString(b, v.String()) }, true
	case reflect.Slice:
		elem, ok := compileJSON(t.Elem())
		if !ok {
			return nil, false
		}
		return orNull(func(b []byte, v reflect.Value) []byte {
			b = append(b, '[')
			for i := range v.Len() {
				if i > 0 {
					b = append(b, ',')
				}
				b = elem(b, v.Index(i))
			}
			return append(b, ']')
		}), true
	case reflect.Struct:
		return compileStruct(t)
	}
	return nil, false
}

// orNull is write for a pointer or slice that is not nil; nil is null.
func orNull(write jsonEncoder) jsonEncoder {
	return func(b []byte, v reflect.Value) []byte {
		if v.IsNil() {
			return append(b, "null"...)
		}
		return write(b, v)
	}
}

// valueOf is the T that v holds, read through its address when it has one,
// which spares boxing it in an interface.
func valueOf[T any](v reflect.Value) T {
	if v.CanAddr() {
		return *v.Addr().Interface().(*T)
	}
	return v.Interface().(T)
}

var (
	jsonMarshaler = reflect.TypeFor[interface{ MarshalJSON() ([]byte, error) }]()
	textMarshaler = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
)

// jsonField is one field of a compiled struct.
type jsonField struct {
	index     int
	name      string
	key       string // the quoted name and its colon
	omitEmpty bool
	encode    jsonEncoder
}

// plainNameChars are the characters a field's JSON name may have here.
const plainNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@$"

func compileStruct(t reflect.Type) (jsonEncoder, bool) {
	var fields []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		if f.Anonymous || !f.IsExported() || tag == "-" {
			return nil, false
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts != "" && opts != "omitempty" {
			return nil, false
		}
		if !hasTag || name == "" {
			name = f.Name
		}
		// encoding/json writes a name as it is, and replaces a tag name it
		// finds invalid by the field's; names are kept to plain characters
		// here, and must not repeat (encoding/json would pick one).
		if strings.Trim(name, plainNameChars) != "" || slices.ContainsFunc(fields, func(o jsonField) bool { return o.name == name }) {
			return nil, false
		}
		enc, ok := compileJSON(f.Type)
		if !ok {
			return nil, false
		}
		fields = append(fields, jsonField{index: i, name: name, key: `"` + name + `":`,
			omitEmpty: opts == "omitempty", encode: enc})
	}
	return func(b []byte, v reflect.Value) []byte {
		b = append(b, '{')
		first := true
		for _, f := range fields {
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyJSON(fv) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.key...)
			b = f.encode(b, fv)
		}
		return append(b, '}')
	}, true
}

// isEmptyJSON is encoding/json's rule for omitempty, for the kinds compileJSON handles.
func isEmptyJSON(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Pointer:
		return v.IsNil()
	}
	return false // a struct or an array (a UUID) is never empty to encoding/json
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it with HTML escaping off.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
