package server

import (
	"bytes"
	"encoding"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connector-group/members-api/generated"
)

// The fast path checks the common request — a flat JSON object of strings —
// with rules compiled at start-up from the same kin-openapi schema the
// validator uses, in the same order and with the same messages, without
// decoding the body into a map and walking it. Whatever it is not sure of (a
// schema feature it was not built for, a value that is not a plain string, an
// escape sequence, a duplicate key, a null) it leaves to kin-openapi, which
// stays the reference. FuzzFastPathAgreesWithKin checks that the two agree.

// fastVerdict is what the fast path concluded about a request.
type fastVerdict int

const (
	fastUnsure  fastVerdict = iota // kin-openapi must decide
	fastValid                      // kin-openapi would accept it
	fastInvalid                    // kin-openapi would refuse it, with these details
)

// fastString is a compiled string schema.
type fastString struct {
	enum         []string // nil: any value
	enumText     string
	minLength    uint64
	maxLength    *uint64
	format       string
	formatCheck  openapi3.StringFormatValidator
	anyOf        []*fastString
	alternatives string // the anyOf branches, for messages
}

// compileString compiles s, or reports that the fast path cannot stand in for
// kin-openapi on it. needType says whether s must declare type string (a
// branch of anyOf need not: its parent does).
func compileString(s *openapi3.Schema, formats map[string]openapi3.StringFormatValidator, needType bool) (*fastString, bool) {
	if s == nil || s.Nullable || s.Pattern != "" || s.Not != nil || len(s.OneOf) > 0 || len(s.AllOf) > 0 ||
		s.ReadOnly || s.WriteOnly || s.Always != nil || s.Discriminator != nil {
		return nil, false
	}
	switch {
	case s.Type == nil || len(s.Type.Slice()) == 0:
		if needType {
			return nil, false
		}
	case len(s.Type.Slice()) != 1 || s.Type.Slice()[0] != openapi3.TypeString:
		return nil, false
	}
	f := &fastString{minLength: s.MinLength, maxLength: s.MaxLength, format: s.Format}
	if s.Format != "" {
		check, ok := formats[s.Format]
		if !ok {
			return nil, false
		}
		f.formatCheck = check
	}
	for _, e := range s.Enum {
		v, ok := e.(string)
		if !ok {
			return nil, false
		}
		f.enum = append(f.enum, v)
	}
	f.enumText = strings.Join(f.enum, ", ")
	for _, ref := range s.AnyOf {
		if ref.Value == nil {
			return nil, false
		}
		branch, ok := compileString(ref.Value, formats, false)
		if !ok || len(branch.anyOf) > 0 {
			return nil, false
		}
		f.anyOf = append(f.anyOf, branch)
	}
	if len(s.AnyOf) > 0 {
		f.alternatives = strings.Join(alternatives(s), " or ")
	}
	return f, true
}

// check appends the violations of v to dst, in kin-openapi's order: anyOf,
// then enum (each alone), then length and format together. It allocates
// only for a value that breaks a rule.
func (f *fastString) check(dst []generated.ErrorDetail, target *string, v string) []generated.ErrorDetail {
	if len(f.anyOf) > 0 {
		ok := false
		for _, b := range f.anyOf {
			if b.valid(v) {
				ok = true
				break
			}
		}
		if !ok {
			return append(dst, violationAt(target, msgAlternatives(quoteString(v), f.alternatives)))
		}
	}
	if f.enum != nil && !slices.Contains(f.enum, v) {
		return append(dst, violationAt(target, msgEnum(quoteString(v), f.enumText)))
	}
	if f.minLength != 0 || f.maxLength != nil {
		length := schemaLength(v)
		if f.minLength != 0 && length < f.minLength {
			dst = append(dst, violationAt(target, msgMinLength(f.minLength)))
		}
		if f.maxLength != nil && length > *f.maxLength {
			dst = append(dst, violationAt(target, msgMaxLength(*f.maxLength)))
		}
	}
	if f.formatCheck != nil && f.formatCheck.Validate(v) != nil {
		dst = append(dst, violationAt(target, msgFormat(quoteString(v), f.format)))
	}
	return dst
}

// schemaLength counts v as kin-openapi does for minLength and maxLength.
func schemaLength(v string) uint64 {
	var length uint64
	for _, r := range v {
		if utf16.IsSurrogate(r) {
			length += 2
		} else {
			length++
		}
	}
	return length
}

// valid is check without the messages: whether v breaks no rule.
func (f *fastString) valid(v string) bool {
	if len(f.anyOf) > 0 && !slices.ContainsFunc(f.anyOf, func(b *fastString) bool { return b.valid(v) }) {
		return false
	}
	if f.enum != nil && !slices.Contains(f.enum, v) {
		return false
	}
	if f.minLength != 0 || f.maxLength != nil {
		length := schemaLength(v)
		if length < f.minLength || (f.maxLength != nil && length > *f.maxLength) {
			return false
		}
	}
	return f.formatCheck == nil || f.formatCheck.Validate(v) == nil
}

// fastBody is a compiled schema of a flat object of string properties, bound
// to the generated struct the handler decodes the body into.
type fastBody struct {
	props         map[string]*fastProperty
	required      []string
	requiredProps []*fastProperty // the properties of required, in its order
	structType    reflect.Type
}

// fastProperty is one property of a fastBody: its schema, its JSON pointer
// (shared, read-only, by the details that name it) and the struct field it
// is decoded into.
type fastProperty struct {
	schema *fastString
	target *string
	field  int
	set    fieldSetter
}

// fieldSetter is how a string is stored in a field of one of the kinds
// compileBody allows, decided once per field.
type fieldSetter int

const (
	setString             fieldSetter = iota // string
	setStringPointer                         // *string
	setTextUnmarshaler                       // T where *T is an encoding.TextUnmarshaler
	setTextUnmarshalerPtr                    // *T where *T is an encoding.TextUnmarshaler
)

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// compileBody compiles the request body schema s for bodies decoded into
// structType, or reports that the fast path cannot stand in for kin-openapi.
func compileBody(s *openapi3.Schema, structType reflect.Type, formats map[string]openapi3.StringFormatValidator) (*fastBody, bool) {
	if s == nil || s.Type == nil || !s.Type.Is(openapi3.TypeObject) || s.Nullable || s.Not != nil ||
		len(s.OneOf) > 0 || len(s.AnyOf) > 0 || len(s.AllOf) > 0 || s.Discriminator != nil ||
		s.MinProps != 0 || s.MaxProps != nil || s.AdditionalProperties.Schema != nil || s.Always != nil ||
		structType.Kind() != reflect.Struct {
		return nil, false
	}
	if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
		return nil, false // unknown properties would need their own schema's check
	}
	b := &fastBody{props: map[string]*fastProperty{}, required: s.Required, structType: structType}
	for name, ref := range s.Properties {
		if ref.Value == nil {
			return nil, false
		}
		f, ok := compileString(ref.Value, formats, true)
		if !ok {
			return nil, false
		}
		target := pointer([]string{name})
		b.props[name] = &fastProperty{schema: f, target: &target, field: -1}
	}
	for i := range structType.NumField() {
		field := structType.Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		p, ok := b.props[name]
		if !ok {
			continue
		}
		t := field.Type
		switch {
		case t.Kind() == reflect.String:
			p.set = setString
		case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
			p.set = setStringPointer
		case reflect.PointerTo(t).Implements(textUnmarshaler):
			p.set = setTextUnmarshaler
		case t.Kind() == reflect.Pointer && t.Implements(textUnmarshaler):
			p.set = setTextUnmarshalerPtr
		default:
			return nil, false
		}
		p.field = i
	}
	for _, p := range b.props {
		if p.field < 0 {
			return nil, false
		}
	}
	for _, name := range b.required {
		p, ok := b.props[name]
		if !ok {
			return nil, false // required but not a property: kin-openapi says what that means
		}
		b.requiredProps = append(b.requiredProps, p)
	}
	return b, true
}

// check scans data. When it is sure, it returns fastValid with the body
// decoded into a new value of the struct type, or fastInvalid with every
// violation, sorted by target as the kin-openapi path sorts them.
func (b *fastBody) check(data []byte) (fastVerdict, reflect.Value, []generated.ErrorDetail) {
	var buf [8]keyValue
	pairs, ok := scanFlatObject(data, buf[:0])
	if !ok {
		return fastUnsure, reflect.Value{}, nil
	}
	// One string for the whole body: the values are cut from it, for the
	// checks and the struct alike. Keys are looked up once, without becoming
	// strings; props[i] is the property of pairs[i], nil for an unknown one.
	body := string(data)
	var propBuf [8]*fastProperty
	props := propBuf[:0]
	var details []generated.ErrorDetail
	// kin-openapi visits the properties in sorted order; the details are sorted by target anyway.
	for _, p := range pairs {
		prop := b.props[string(data[p.key.start:p.key.end])]
		props = append(props, prop)
		if prop == nil {
			key := body[p.key.start:p.key.end]
			details = append(details, violation(pointer([]string{key}), msgNotAllowed(key)))
			continue
		}
		details = prop.schema.check(details, prop.target, body[p.value.start:p.value.end])
	}
	for i, req := range b.requiredProps {
		if !slices.Contains(props, req) {
			details = append(details, violationAt(req.target, msgRequired(b.required[i])))
		}
	}
	if len(details) > 0 {
		sortByTarget(details)
		return fastInvalid, reflect.Value{}, details
	}
	out := reflect.New(b.structType)
	for i, p := range pairs {
		if !props[i].set.store(out.Elem().Field(props[i].field), body[p.value.start:p.value.end]) {
			return fastUnsure, reflect.Value{}, nil
		}
	}
	return fastValid, out, nil
}

// store stores s in field.
func (set fieldSetter) store(field reflect.Value, s string) bool {
	switch set {
	case setString:
		field.SetString(s)
	case setStringPointer:
		v := reflect.New(field.Type().Elem())
		v.Elem().SetString(s)
		field.Set(v)
	case setTextUnmarshaler:
		return field.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)) == nil
	default: // setTextUnmarshalerPtr
		v := reflect.New(field.Type().Elem())
		if v.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)) != nil {
			return false
		}
		field.Set(v)
	}
	return true
}

// keyValue is one member of a scanned object: where its key and its
// value (both strings, without their quotes) lie in the body.
type keyValue struct{ key, value span }

// span is a range of the body, [start, end).
type span struct{ start, end int }

// scanFlatObject reads a JSON object whose values are all strings, with no
// escape sequences, no control characters and valid UTF-8, no duplicate keys
// and nothing after it. Anything else: ok is false, and kin-openapi decides.
// The pairs are appended to pairs, which the caller may give room on its stack.
func scanFlatObject(data []byte, pairs []keyValue) ([]keyValue, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, skipSpace(data, i+1) == len(data)
	}
	for {
		key, ok := scanString(data, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(data, key.end+1)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		value, ok := scanString(data, skipSpace(data, i+1))
		if !ok {
			return nil, false
		}
		for _, p := range pairs {
			if bytes.Equal(data[p.key.start:p.key.end], data[key.start:key.end]) {
				return nil, false
			}
		}
		pairs = append(pairs, keyValue{key, value})
		i = skipSpace(data, value.end+1)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return pairs, skipSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// scanString reads a plain JSON string starting at data[i]: the span is
// its content, and its closing quote is at span.end.
func scanString(data []byte, i int) (span, bool) {
	if i >= len(data) || data[i] != '"' {
		return span{}, false
	}
	start := i + 1
	for j := start; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			if !utf8.Valid(data[start:j]) {
				return span{}, false
			}
			return span{start, j}, true
		case c == '\\' || c < 0x20:
			return span{}, false
		}
	}
	return span{}, false
}

// fastParam is a compiled path or header parameter of string type.
type fastParam struct {
	name      string
	in        string
	headerKey string // name in canonical header form, computed once
	required  bool
	schema    *fastString
}

// compileParams compiles the operation's parameters (the path item's, unless
// the operation overrides them), or reports that one of them is beyond the
// fast path: not a plain string in the path or a header.
func compileParams(item *openapi3.PathItem, op *openapi3.Operation, formats map[string]openapi3.StringFormatValidator) ([]fastParam, bool) {
	var refs openapi3.Parameters
	for _, p := range item.Parameters {
		if p.Value != nil && op.Parameters.GetByInAndName(p.Value.In, p.Value.Name) == nil {
			refs = append(refs, p)
		}
	}
	refs = append(refs, op.Parameters...)
	var out []fastParam
	for _, ref := range refs {
		p := ref.Value
		if p == nil || p.Content != nil || p.Schema == nil || p.Schema.Value == nil ||
			(p.In != openapi3.ParameterInPath && p.In != openapi3.ParameterInHeader) ||
			(p.Style != "" && p.Style != openapi3.SerializationSimple) || p.AllowEmptyValue {
			return nil, false
		}
		f, ok := compileString(p.Schema.Value, formats, true)
		if !ok || len(f.anyOf) > 0 {
			return nil, false
		}
		out = append(out, fastParam{name: p.Name, in: p.In, headerKey: textproto.CanonicalMIMEHeaderKey(p.Name),
			required: p.Required, schema: f})
	}
	return out, true
}

// paramsValid reports whether every parameter is certainly valid; false
// means kin-openapi must look (it may be valid all the same).
func paramsValid(params []fastParam, pathValue func(string) string, header map[string][]string) bool {
	for _, p := range params {
		var v string
		switch p.in {
		case openapi3.ParameterInPath:
			v = pathValue(p.name)
			if v == "" || strings.ContainsRune(v, '%') {
				return false
			}
		default:
			values, present := header[p.headerKey]
			if !present {
				if p.required {
					return false
				}
				continue
			}
			if len(values) != 1 || values[0] == "" {
				return false
			}
			v = values[0]
		}
		if !p.schema.valid(v) {
			return false
		}
	}
	return true
}
