package reqcheck

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// decodeOpen reads body as an object whose property "s" is a string and
// "n" an object of strings; every other property is refused.
func decodeOpen(body string) (Violations, bool) {
	var vs Violations
	d := NewDecoder([]byte(body), &vs)
	if d.Object() {
		for d.Next() {
			switch string(d.Name()) {
			case "s":
				d.String()
			case "n":
				if d.Object() {
					for d.Next() {
						d.String()
					}
				}
			default:
				d.Unknown()
			}
		}
	}
	ok := d.Finish()
	return vs, ok
}

// names is n properties k0, k1, … with string values, each followed by a comma.
func names(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `"k%d": "v", `, i)
	}
	return b.String()
}

func TestDecoder(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       []Violation
	}{
		{"valid", `{"s": "x", "n": {"a": "b"}}`, nil},
		{"duplicate name", `{"s": "x", "s": "y"}`, []Violation{{"/s", MsgDuplicate("s")}}},
		{"duplicate nested", `{"n": {"a": "1", "a": "2"}}`, []Violation{{"/n/a", MsgDuplicate("a")}}},
		{"duplicate after 40 names of a map", `{"n": {` + names(40) + `"k7": "again"}}`, []Violation{{"/n/k7", MsgDuplicate("k7")}}},
		{"duplicate last of 40", `{"n": {` + names(40) + `"k39": "again"}}`, []Violation{{"/n/k39", MsgDuplicate("k39")}}},
		{"duplicate spelled with an escape", `{"n": {` + names(20) + `"\u006b3": "again"}}`, []Violation{{"/n/k3", MsgDuplicate("k3")}}},
		{"duplicate with a slash", `{"n": {"a/b": "1", "a\/b": "2"}}`, []Violation{{"/n/a~1b", MsgDuplicate("a/b")}}},
		{"duplicate among the first names of a refused object", `{"z": 1, "s": "x", ` + strings.ReplaceAll(names(30), `"v"`, `1`) + `"s": "y"}`,
			[]Violation{{"/s", MsgDuplicate("s")}}},
		{"no duplicate in 5,000 names", `{"n": {` + names(5000) + `"last": "x"}}`, nil},
		{"lone surrogate", `{"s": "\ud800"}`, []Violation{{"/s", MsgLoneSurrogate}}},
		{"invalid UTF-8", "{\"s\": \"\xff\"}", []Violation{{"/s", MsgInvalidUTF8}}},
		{"two values", `{} {}`, []Violation{{"", MsgInvalidJSON}}},
		{"not JSON", `{"s": }`, []Violation{{"", MsgInvalidJSON}}},
		{"cut short", `{"s": "x"`, []Violation{{"", MsgInvalidJSON}}},
		{"wrong type", `{"s": 1}`, []Violation{{"/s", MsgType("string", "number")}}},
		{"pointer escaping", `{"a/b~c": 1}`, []Violation{{"/a~1b~0c", MsgNotAllowed("a/b~c")}}},
		{"sorted by pointer", `{"z": 1, "s": 2}`, []Violation{{"/s", MsgType("string", "number")}, {"/z", MsgNotAllowed("z")}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			vs, ok := decodeOpen(c.body)
			if ok != (len(c.want) == 0) {
				t.Errorf("Finish = %t with %v", ok, vs.List())
			}
			if got := vs.List(); !slices.Equal(got, c.want) {
				t.Errorf("violations %q, want %q", got, c.want)
			}
		})
	}
}

// TestSurrogatePairIsOneCharacter: an escaped pair is a character, stored as one.
func TestSurrogatePairIsOneCharacter(t *testing.T) {
	var vs Violations
	d := NewDecoder([]byte(`"\ud83d\ude00"`), &vs)
	s, ok := d.String()
	if !d.Finish() || !ok || s != "😀" || Length(s) != 1 {
		t.Errorf("got %q (ok %t, length %d), %v", s, ok, Length(s), vs.List())
	}
}

// TestDepth: nesting past jsontext's limit is refused as not JSON, with
// a message that does not quote the 10,000-level pointer.
func TestDepth(t *testing.T) {
	for _, depth := range []int{9_000, 20_000} {
		body := strings.Repeat(`{"n":`, depth) + "{}" + strings.Repeat("}", depth)
		var vs Violations
		d := NewDecoder([]byte(body), &vs)
		d.Skip()
		ok := d.Finish()
		if depth < 10_000 && !ok {
			t.Errorf("depth %d refused: %v", depth, vs.List())
		}
		if depth > 10_000 {
			if ok || vs.List()[0].Message != MsgInvalidJSON || len(vs.List()[0].Target) > 200 {
				t.Errorf("depth %d: %v", depth, vs.List())
			}
		}
	}
}

// TestViolationCap: past MaxViolations the violations are counted, not
// kept, and the list says how many were left out.
func TestViolationCap(t *testing.T) {
	var b strings.Builder
	b.WriteByte('{')
	for i := range 250 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d": 0`, i)
	}
	b.WriteByte('}')
	vs, ok := decodeOpen(b.String())
	if ok || vs.Len() != 250 {
		t.Fatalf("Len = %d, ok %t; want 250 violations", vs.Len(), ok)
	}
	list := vs.List()
	if len(list) != MaxViolations+1 || list[MaxViolations].Message != msgDropped(150) {
		t.Errorf("%d kept, last %q; want %d and %q", len(list), list[len(list)-1], MaxViolations+1, msgDropped(150))
	}
}

func TestShortenAndQuote(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	s := Shorten(long)
	if len(s) > maxQuoted+len("…") || !strings.HasSuffix(s, "…") || !strings.HasPrefix(long, strings.TrimSuffix(s, "…")) {
		t.Errorf("Shorten cut %q badly", s)
	}
	if Quote("a\"b") != `"a\"b"` {
		t.Errorf("Quote = %s", Quote("a\"b"))
	}
}

func TestUnknownOptions(t *testing.T) {
	query, _ := url.ParseQuery("$top=1&$filter=x&$expand=y&plain=1")
	var vs Violations
	UnknownOptions(query, &vs, "$top")
	want := []Violation{{"$expand", MsgUnsupportedOption("$expand")}, {"$filter", MsgUnsupportedOption("$filter")}}
	if got := vs.List(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestListItems(t *testing.T) {
	got := ListItems([]string{"return=minimal, odata.maxpagesize=5", " code=429 "})
	want := []string{"return=minimal", "odata.maxpagesize=5", "code=429"}
	if !slices.Equal(got, want) {
		t.Errorf("ListItems = %q, want %q", got, want)
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct {
		check func(string) bool
		value string
		want  bool
	}{
		{IsGUID, "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{IsGUID, "0f8fad5b-d9cb-469f-a165-70867728950", false},
		{IsIPv4, "10.0.0.1", true},
		{IsIPv4, "10.0.0.01", false},
		{IsIPv6, "fe80::1", true},
		{IsIPv6, "fe80::1%eth0", false},
		{IsDateTime, "2026-12-02T04:31:02Z", true},
		{IsDateTime, "2026-12-02T04:31:02", false},
	} {
		if got := c.check(c.value); got != c.want {
			t.Errorf("check(%q) = %t, want %t", c.value, got, c.want)
		}
	}
}

// decodeForm is a form that requires property name, a string, and allows no other.
func decodeForm(name string) Form {
	return Form{Name: name, Decode: func(d *Decoder) any {
		got := ""
		if d.Object() {
			seen := false
			for d.Next() {
				if string(d.Name()) == name {
					seen = true
					got, _ = d.String()
				} else {
					d.Unknown()
				}
			}
			if !seen {
				d.Missing(name)
			}
		}
		return &got
	}}
}

func TestOneOf(t *testing.T) {
	forms := []Form{decodeForm("a"), decodeForm("b")}
	for _, c := range []struct {
		name, body string
		want       string // the value decoded, when one form fits
		violations []Violation
	}{
		{name: "the first form", body: `{"a": "x"}`, want: "x"},
		{name: "the second form", body: `{"b": "y"}`, want: "y"},
		{name: "neither", body: `{"c": 1}`, violations: []Violation{
			{"", MsgOneOfNone([]string{"a", "b"})},
			{"/a", "as a: " + MsgRequired("a")}, {"/c", "as a: " + MsgNotAllowed("c")},
			{"/b", "as b: " + MsgRequired("b")}, {"/c", "as b: " + MsgNotAllowed("c")},
		}},
		{name: "not JSON, said once", body: `{"a": `, violations: []Violation{{"", MsgInvalidJSON}}},
		{name: "a duplicate name, said once", body: `{"a": "x", "a": "y"}`, violations: []Violation{{"/a", MsgDuplicate("a")}}},
	} {
		for _, exclusive := range []bool{false, true} { // these forms are: the answers are the same
			t.Run(fmt.Sprintf("%s/exclusive=%t", c.name, exclusive), func(t *testing.T) {
				var vs Violations
				v := OneOf([]byte(c.body), &vs, exclusive, forms...)
				if got := vs.List(); !slices.Equal(got, c.violations) {
					t.Errorf("violations %q, want %q", got, c.violations)
				}
				if c.want != "" && (v == nil || *v.(*string) != c.want) {
					t.Errorf("value %v, want %q", v, c.want)
				}
				if c.want == "" && v != nil {
					t.Errorf("value %v with violations", v)
				}
			})
		}
	}
	// A body whose property names select one form gets that form's violations
	// alone, as a body of one form would; names of both forms select none.
	named := []Form{decodeForm("a"), decodeForm("b")}
	named[0].Only, named[1].Only = []string{"a"}, []string{"b"}
	for _, c := range []struct {
		body string
		want []Violation
	}{
		{`{"a": 5}`, []Violation{{"/a", MsgType("string", "number")}}},
		{`{"b": 5, "c": 1}`, []Violation{{"/b", MsgType("string", "number")}, {"/c", MsgNotAllowed("c")}}},
		{`{"a": 5, "b": 5}`, []Violation{
			{"", MsgOneOfNone([]string{"a", "b"})},
			{"/a", "as a: " + MsgType("string", "number")}, {"/b", "as a: " + MsgNotAllowed("b")},
			{"/a", "as b: " + MsgNotAllowed("a")}, {"/b", "as b: " + MsgType("string", "number")},
		}},
	} {
		var vs Violations
		if v := OneOf([]byte(c.body), &vs, true, named...); v != nil || !slices.Equal(vs.List(), c.want) {
			t.Errorf("%s: %v, violations %q, want %q", c.body, v, vs.List(), c.want)
		}
	}
	// Exclusive forms: a body that fits the first is not read as the second.
	reads := 0
	counted := func(f Form) Form {
		return Form{Name: f.Name, Decode: func(d *Decoder) any { reads++; return f.Decode(d) }}
	}
	var vs Violations
	if v := OneOf([]byte(`{"a": "x"}`), &vs, true, counted(forms[0]), counted(forms[1])); v == nil || reads != 1 {
		t.Errorf("exclusive forms, the first fits: value %v, %d reads, want 1", v, reads)
	}
	// Both forms fit a body that has neither requirement: one violation.
	lenient := Form{Name: "any", Decode: func(d *Decoder) any { d.Skip(); return new(string) }}
	vs = Violations{}
	if v := OneOf([]byte(`{}`), &vs, false, lenient, lenient); v != nil || vs.Len() != 1 || vs.List()[0].Message != MsgOneOfSeveral([]string{"any", "any"}) {
		t.Errorf("fits both: %v, %q", v, vs.List())
	}
}

// TestParseGUID: one pass decodes what google/uuid decodes, for the form
// the service accepts (8-4-4-4-12 hex digits, either case, any version),
// and refuses every other form uuid.Parse would take.
func TestParseGUID(t *testing.T) {
	for range 1000 {
		want := uuid.New()
		for _, s := range []string{want.String(), strings.ToUpper(want.String())} {
			if got, ok := ParseGUID(s); !ok || got != want {
				t.Fatalf("ParseGUID(%q) = %v, %t", s, got, ok)
			}
		}
	}
	if got, ok := ParseGUID("72bb7735-7735-72bb-3577-bb723577bb72"); !ok || got.String() != "72bb7735-7735-72bb-3577-bb723577bb72" {
		t.Errorf("the page's example id (no RFC 4122 version): %v, %t", got, ok)
	}
	for _, s := range []string{
		"", "72bb7735-7735-72bb-3577-bb723577bb7", "72bb7735-7735-72bb-3577-bb723577bb722",
		"{72bb7735-7735-72bb-3577-bb723577bb72}", "urn:uuid:72bb7735-7735-72bb-3577-bb723577bb72",
		"72bb7735x7735-72bb-3577-bb723577bb72", "72bb7735-7735-72bb-3577-bb723577bb7g", "72bb773572bb3577bb723577bb72aaaa",
		"g2bb7735-7735-72bb-3577-bb723577bb72", "72bb7735-7735-72bb-3577-bb723577bb-2",
	} {
		if _, ok := ParseGUID(s); ok || IsGUID(s) {
			t.Errorf("ParseGUID(%q) accepted it", s)
		}
	}
}
