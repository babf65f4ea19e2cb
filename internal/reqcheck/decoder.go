package reqcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Decoder reads one JSON request body for a generated validator, reporting
// each violation at its JSON pointer as it goes. The generated code walks the
// schema: Object and Next for an object's properties, Array and Element for
// an array's items, String, Integer, Number and Boolean for a scalar, Skip
// for a value the schema does not describe.
//
// Every value is read once, so the cost is linear in the body's size. The
// decoder refuses what the standard library's v1 decoder lets through: a
// duplicate property name, invalid UTF-8, an escaped lone surrogate, more than
// one top-level value; and it stops at a nesting depth of 10,000.
type Decoder struct {
	dec    jsontext.Decoder
	src    bytes.Buffer
	body   []byte
	vs     *Violations
	start  int     // where the body's violations start in vs
	levels []level // the objects and arrays entered, outermost first
	failed error   // a syntactic error: the body is not (acceptable) JSON
	value  jsontext.Value
	// trusted says an earlier read of the same body found it acceptable
	// JSON: its names are not checked again (OneOf reads a body once per
	// form, and the check is the costly part of reading a body of names).
	trusted bool
}

// level is one object or array being read, and where in it the decoder is.
type level struct {
	start int64    // an object's offset in the body, where its '{' is
	count int      // the names an object has had so far
	few   []uint64 // their hashes, while there are few of them
	many  map[uint64]struct{}
	// refused says the object has had a name its schema does not allow.
	refused bool
	array   bool
	name    []byte // the current property's name, unescaped (objects)
	index   int    // the current item's position (arrays)
}

var decoders = sync.Pool{New: func() any { return new(Decoder) }}

// NewDecoder starts reading body, adding its violations to vs. Call Finish
// when the generated code is done.
func NewDecoder(body []byte, vs *Violations) *Decoder {
	d := decoders.Get().(*Decoder)
	d.body, d.vs, d.start, d.failed, d.trusted = body, vs, len(vs.list), nil, false
	d.levels = d.levels[:0]
	d.src = *bytes.NewBuffer(body)
	// Duplicate names are found by Next (names.go), at a fraction of the
	// memory jsontext's check takes for a body of many names.
	d.dec.Reset(&d.src, jsontext.AllowDuplicateNames(true))
	return d
}

// newTrustedDecoder is NewDecoder for a body an earlier read found to be
// acceptable JSON.
func newTrustedDecoder(body []byte, vs *Violations) *Decoder {
	d := NewDecoder(body, vs)
	d.trusted = true
	return d
}

// DecodeDocument reads doc as one T with decode, the generated function that
// checks T's schema as it reads: the value when doc breaks no rule, nil with
// every violation in vs otherwise.
func DecodeDocument[T any](doc []byte, vs *Violations, decode func(*Decoder, *T)) *T {
	v := new(T)
	d := NewDecoder(doc, vs)
	decode(d, v)
	if !d.Finish() {
		return nil
	}
	return v
}

// Finish checks that nothing but white space follows the value, settles the
// body's violations (one, when the body is not acceptable JSON; otherwise
// ordered by JSON pointer), and releases the decoder. It reports whether the
// body broke no rule.
func (d *Decoder) Finish() bool {
	ok, _ := d.finish()
	return ok
}

// finish is Finish, also telling whether the body is not (acceptable) JSON
// at all: the same for any schema.
func (d *Decoder) finish() (ok, syntactic bool) {
	if d.failed == nil {
		if _, err := d.dec.ReadValue(); err != io.EOF {
			d.fail(err)
		}
	}
	vs := d.vs
	if d.failed != nil {
		vs.truncate(d.start)
		target, message := d.describe(d.failed)
		vs.Add(target, message)
	} else {
		vs.sortFrom(d.start)
	}
	ok, syntactic = vs.Len() == d.start, d.failed != nil
	d.body, d.vs, d.failed, d.value = nil, nil, nil, nil
	for i := range d.levels[:cap(d.levels)] {
		d.levels[:cap(d.levels)][i].many = nil // a big object's set is not kept for the next body
	}
	d.src = bytes.Buffer{}
	d.dec.Reset(&d.src)
	decoders.Put(d)
	return ok, syntactic
}

// fail records the first error that ends the reading; err == nil means a
// value ended where it must not (reported as not JSON).
func (d *Decoder) fail(err error) {
	if d.failed != nil {
		return
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	d.failed = err
}

// describe turns the error that ended the reading into one violation. The
// jsontext error's own text is never sent: it can quote a pointer 10,000
// levels deep.
func (d *Decoder) describe(err error) (target, message string) {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			name := lastToken(se.JSONPointer)
			return shortPointer(se.JSONPointer), MsgDuplicate(name)
		case !utf8.Valid(d.body):
			return shortPointer(se.JSONPointer), MsgInvalidUTF8
		case strings.Contains(se.Err.Error(), "surrogate"):
			return shortPointer(se.JSONPointer), MsgLoneSurrogate
		}
	}
	return "", MsgInvalidJSON
}

// lastToken is the last reference token of a JSON pointer, unescaped.
func lastToken(p jsontext.Pointer) string {
	s := string(p)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// shortPointer is a pointer fit for an error: each reference token shortened,
// and no more than 16 of them.
func shortPointer(p jsontext.Pointer) string {
	tokens := strings.Split(string(p), "/")[1:]
	if len(tokens) > 16 {
		tokens = append(tokens[:8:8], append([]string{"…"}, tokens[len(tokens)-7:]...)...)
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(Shorten(t))
	}
	return b.String()
}

// Failed reports whether reading has stopped on a syntactic error; every
// reader then returns false at once.
func (d *Decoder) Failed() bool { return d.failed != nil }

// Violate reports message at the current value.
func (d *Decoder) Violate(message string) {
	if d.failed == nil {
		d.vs.Add(d.pointer(""), message)
	}
}

// Missing reports that the current object lacks the required property name.
func (d *Decoder) Missing(name string) {
	if d.failed == nil {
		d.vs.Add(d.pointer(name), MsgRequired(name))
	}
}

// pointer is the JSON pointer to the current value, or, with child, to the
// property child of the object just left (Missing runs after Next has
// returned false, when the object's own level is gone).
func (d *Decoder) pointer(child string) string {
	var b strings.Builder
	d.writePath(&b, Shorten)
	if child != "" {
		b.WriteByte('/')
		writeToken(&b, Shorten(child))
	}
	return b.String()
}

// writePath writes the pointer to the current value, each name as name
// gives it (shortened for a message, or whole).
func (d *Decoder) writePath(b *strings.Builder, name func(string) string) {
	for _, l := range d.levels {
		b.WriteByte('/')
		if l.array {
			b.WriteString(strconv.Itoa(l.index))
		} else {
			writeToken(b, name(string(l.name)))
		}
	}
}

// writeToken writes a reference token, escaping ~ and / (RFC 6901).
func writeToken(b *strings.Builder, t string) {
	if !strings.ContainsAny(t, "~/") {
		b.WriteString(t)
		return
	}
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
}

// read reads the next whole value; false once reading has failed.
func (d *Decoder) read() bool {
	if d.failed != nil {
		return false
	}
	v, err := d.dec.ReadValue()
	if err != nil {
		d.fail(err)
		return false
	}
	d.value = v
	return true
}

// kindName names a JSON kind as a schema type.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

// wrongType reads the current value whole and reports that it is not want.
func (d *Decoder) wrongType(want string) {
	if d.read() {
		d.Violate(MsgType(want, kindName(d.value.Kind())))
	}
}

// IsNull reads the current value if it is null, reporting whether it was.
func (d *Decoder) IsNull() bool {
	if d.failed != nil || d.dec.PeekKind() != 'n' {
		return false
	}
	return d.read()
}

// Object starts reading an object; for any other value it reports the type,
// skips it, and returns false.
func (d *Decoder) Object() bool { return d.enter('{', "object") }

// enter reads the opening delimiter of an object ('{') or an array ('['),
// starting a level; for any other value it reports the type, skips it, and
// returns false.
func (d *Decoder) enter(delim jsontext.Kind, typ string) bool {
	if d.failed != nil {
		return false
	}
	if d.dec.PeekKind() != delim {
		d.wrongType(typ)
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail(err)
		return false
	}
	name, few := d.spare()
	d.levels = append(d.levels, level{array: delim == '[', index: -1, name: name, few: few, start: d.dec.InputOffset() - 1})
	return true
}

// leave reads the closing delimiter of the current level if it comes next,
// and reports whether it did (or reading failed): the level is done.
func (d *Decoder) leave(delim jsontext.Kind) bool {
	if d.failed != nil {
		return true
	}
	if d.dec.PeekKind() != delim {
		return false
	}
	if _, err := d.dec.ReadToken(); err != nil {
		d.fail(err)
		return true
	}
	d.levels = d.levels[:len(d.levels)-1]
	return true
}

// spare is a name buffer and a hash list for a new level, reused from an
// earlier one.
func (d *Decoder) spare() ([]byte, []uint64) {
	if n := len(d.levels); n < cap(d.levels) {
		l := d.levels[: n+1 : n+1][n]
		return l.name[:0], l.few[:0]
	}
	return nil, nil
}

// Next reads the next property name of the current object; at the object's
// end (or a syntactic error) it returns false and leaves the object.
func (d *Decoder) Next() bool {
	if d.leave('}') {
		return false
	}
	l := &d.levels[len(d.levels)-1]
	raw, err := d.dec.ReadValue()
	if err != nil {
		d.fail(err)
		return false
	}
	if raw.Kind() != '"' { // jsontext reports a non-string name as an error already
		d.fail(nil)
		return false
	}
	quoted := raw[1 : len(raw)-1]
	if bytes.IndexByte(quoted, '\\') < 0 {
		l.name = append(l.name[:0], quoted...)
	} else if l.name, err = jsontext.AppendUnquote(l.name[:0], raw); err != nil {
		d.fail(err)
		return false
	}
	l.count++
	if !d.trusted && d.seenBefore(l) {
		d.fail(d.duplicate())
		return false
	}
	return true
}

// Name is the current property's name. It is valid until the next call to
// Next; a switch on string(d.Name()) does not allocate.
func (d *Decoder) Name() []byte { return d.levels[len(d.levels)-1].name }

// Unknown reports the current property as one the schema does not allow and
// skips its value. Past MaxViolations the violation is only counted: a body
// of a hundred thousand unknown names builds a hundred messages.
func (d *Decoder) Unknown() {
	d.levels[len(d.levels)-1].refused = true
	if d.failed == nil && d.vs.Full() {
		d.vs.Drop()
	} else {
		d.Violate(MsgNotAllowed(string(d.Name())))
	}
	d.Skip()
}

// ReadOnly reports the current property as one the server sets (readOnly in
// the spec), and skips its value.
func (d *Decoder) ReadOnly() {
	d.Violate(MsgReadOnly(string(d.Name())))
	d.Skip()
}

// Skip reads the current value whole without checking it.
func (d *Decoder) Skip() { d.read() }

// RawObject reads an object whole into *dst, as sent (checked JSON, copied:
// the body's buffer is reused), for a value the schema leaves to another
// check (a batch's inner body); for any other value it reports the type.
func (d *Decoder) RawObject(dst *json.RawMessage) {
	if d.failed != nil {
		return
	}
	if d.dec.PeekKind() != '{' {
		d.wrongType("object")
		return
	}
	if d.read() {
		*dst = append(json.RawMessage(nil), d.value...)
	}
}

// Array starts reading an array; for any other value it reports the type,
// skips it, and returns false.
func (d *Decoder) Array() bool { return d.enter('[', "array") }

// Element moves to the next item of the current array; at the array's end
// (or a syntactic error) it returns false and leaves the array.
func (d *Decoder) Element() bool {
	if d.leave(']') {
		return false
	}
	d.levels[len(d.levels)-1].index++
	return true
}

// Count is how many items of the array, or properties of the object, just
// left were read.
func (d *Decoder) Count() int {
	if n := len(d.levels); n < cap(d.levels) {
		if l := d.levels[: n+1 : n+1][n]; !l.array {
			return l.count
		}
		return d.levels[: n+1 : n+1][n].index + 1
	}
	return 0
}

// Entries is how many properties the current object has had so far.
func (d *Decoder) Entries() int { return d.levels[len(d.levels)-1].count }

// SkipEntry skips the current property's value, for a map past the most
// properties its schema allows: nothing more of the object is kept, its
// names neither (the object is refused already).
func (d *Decoder) SkipEntry() {
	d.levels[len(d.levels)-1].refused = true
	d.Skip()
}

// String reads a string; for any other value it reports the type and
// returns false.
func (d *Decoder) String() (string, bool) {
	if d.failed != nil {
		return "", false
	}
	if d.dec.PeekKind() != '"' {
		d.wrongType("string")
		return "", false
	}
	if !d.read() {
		return "", false
	}
	quoted := d.value[1 : len(d.value)-1]
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted), true
	}
	b, err := jsontext.AppendUnquote(nil, d.value)
	if err != nil {
		d.fail(err)
		return "", false
	}
	return string(b), true
}

// Number reads a number, as its text and its value; for any other value it
// reports the type and returns false.
func (d *Decoder) Number() (string, float64, bool) {
	if d.failed != nil {
		return "", 0, false
	}
	if d.dec.PeekKind() != '0' {
		d.wrongType("number")
		return "", 0, false
	}
	if !d.read() {
		return "", 0, false
	}
	text := string(d.value)
	f, err := strconv.ParseFloat(text, 64)
	if err != nil { // beyond float64: still a number, but none this API takes
		d.Violate("value " + Shorten(text) + " is out of range")
		return text, 0, false
	}
	return text, f, true
}

// Integer reads an integer that fits in bits (a number with no fraction);
// for any other value it reports what is wrong and returns false.
func (d *Decoder) Integer(bits int) (string, int64, bool) {
	if d.failed != nil {
		return "", 0, false
	}
	if d.dec.PeekKind() != '0' {
		d.wrongType("integer")
		return "", 0, false
	}
	text, f, ok := d.Number()
	if !ok {
		return text, 0, false
	}
	n, err := strconv.ParseInt(text, 10, bits)
	if err == nil {
		return text, n, true
	}
	limit := math.Ldexp(1, bits-1)
	if f == math.Trunc(f) && f >= -limit && f < limit { // 1.0, 1e2
		return text, int64(f), true
	}
	if f != math.Trunc(f) {
		d.Violate(MsgType("integer", "number"))
	} else {
		d.Violate("value " + Shorten(text) + " is out of range")
	}
	return text, 0, false
}

// Boolean reads true or false; for any other value it reports the type and
// returns false.
func (d *Decoder) Boolean() (bool, bool) {
	if d.failed != nil {
		return false, false
	}
	switch d.dec.PeekKind() {
	case 't', 'f':
		if !d.read() {
			return false, false
		}
		return d.value.Kind() == 't', true
	}
	d.wrongType("boolean")
	return false, false
}
