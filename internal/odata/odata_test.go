package odata_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/connector-group/members-api/internal/odata"
)

// item is a test resource: a string, an enum, a boolean, an optional string
// and a property only $select may name.
type item struct {
	Name   string
	Status string
	OK     bool
	Note   *string
	Size   int
}

var schema = odata.Schema[item]{Type: "test.item", Properties: []odata.Property[item]{
	{Name: "name", Kind: odata.String, Text: func(v *item) (string, bool) { return v.Name, true }, Value: func(v *item) any { return v.Name }},
	{Name: "note", Kind: odata.String, Text: func(v *item) (string, bool) {
		if v.Note == nil {
			return "", false
		}
		return *v.Note, true
	}, Value: func(v *item) any {
		if v.Note == nil {
			return nil
		}
		return *v.Note
	}},
	{Name: "ok", Kind: odata.Bool, Text: func(v *item) (string, bool) {
		if v.OK {
			return "true", true
		}
		return "false", true
	}, Value: func(v *item) any { return v.OK }},
	{Name: "size", Kind: odata.Other, Value: func(v *item) any { return v.Size }},
	{Name: "status", Kind: odata.Enum, Enum: []string{"active", "inactive"}, Text: func(v *item) (string, bool) { return v.Status, true }, Value: func(v *item) any { return v.Status }},
}}

func ptr(s string) *string { return &s }

var items = []item{
	{Name: "eu-1", Status: "active", OK: true, Note: ptr("it's"), Size: 1},
	{Name: "eu-2", Status: "inactive", Size: 2},
	{Name: "us-1", Status: "active", Size: 3},
	{Name: "EU-3", Status: "active", OK: true, Note: ptr(""), Size: 4},
}

// names is what the filter keeps of items, by name.
func names(t *testing.T, filter string) []string {
	t.Helper()
	q, err := odata.Parse(&schema, nil, &filter, nil)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	var out []string
	for i := range items {
		if q.Match(&items[i]) {
			out = append(out, items[i].Name)
		}
	}
	return out
}

func TestFilterKeeps(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"status eq 'active'", []string{"eu-1", "us-1", "EU-3"}},
		{"status ne 'active'", []string{"eu-2"}},
		{"startswith(name,'eu-')", []string{"eu-1", "eu-2"}},        // case-sensitive, as OData's
		{"startsWith(name,'eu-') and ok eq true", []string{"eu-1"}}, // Graph's own spelling
		{"not startswith(name,'eu') or status EQ 'inactive'", []string{"eu-2", "us-1", "EU-3"}},
		{"name in ('us-1', 'EU-3', 'nobody')", []string{"us-1", "EU-3"}},
		{"note eq null", []string{"eu-2", "us-1"}},
		{"note ne null", []string{"eu-1", "EU-3"}},
		{"note eq 'it''s'", []string{"eu-1"}},
		{"note eq ''", []string{"EU-3"}},
		{"(ok eq false or name eq 'eu-1') and not (status eq 'inactive')", []string{"eu-1", "us-1"}},
		{"ok eq true and status eq 'active' or name eq 'eu-2'", []string{"eu-1", "eu-2", "EU-3"}}, // and binds tighter
		{"name eq 'x' or name eq 'y' or name eq 'us-1'", []string{"us-1"}},
		{"  status   eq\t'active'  and ok eq true ", []string{"eu-1", "EU-3"}},
	} {
		if got := names(t, tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%s: keeps %q, want %q", tc.filter, got, tc.want)
		}
	}
}

func TestFilterRefuses(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{"nope eq 'a'", "Could not find a property named 'nope' on type 'test.item'."},
		{"size eq 'a'", "property 'size' cannot be used in $filter: only string, enum and boolean properties can."},
		{"status gt 'a'", "the operator 'gt' is not supported; eq, ne and in are."},
		{"endswith(name,'1')", "the function 'endswith' is not supported; startswith is."},
		{"contains(name,'1')", "the function 'contains' is not supported; startswith is."},
		{"status eq 'busy'", "'busy' is not a value of status; its values are active, inactive."},
		{"ok eq 'true'", "ok is a boolean property; compare it with true or false, not 'true'."},
		{"name eq true", "name is a string property; compare it with a string in quotes, not true."},
		{"name eq 12", "'12' is not a value: write a string in single quotes, or a GUID."},
		{"name eq 'open", "a string that starts at 9 has no closing quote."},
		{"(name eq 'a'", "'the end' where ')' should be."},
		{"name eq 'a')", "')' where the expression should end."},
		{"name", "'the end' where an operator (eq, ne, in) should follow 'name'."},
		{"name in 'a'", "''a'' where in's '(' should be."},
		{"name in ('a' 'b')", "''b'' where ',' or ')' should be in the list of in."},
		{"startswith(ok,'t')", "startswith takes a string property; ok is boolean."},
		{"name eq 'a' && ok eq true", "'&' at 13 is not part of the supported syntax."},
		{"", "'the end' where a property or a function should be."},
		{strings.Repeat("not ", odata.MaxDepth) + "ok eq true", "parentheses and not nest deeper than 32."},
		{strings.Repeat("(", odata.MaxDepth) + "ok eq true" + strings.Repeat(")", odata.MaxDepth), "parentheses and not nest deeper than 32."},
		{"name in (" + strings.Repeat("'a',", odata.MaxComparisons) + "'b')", "more than 64 comparisons."},
	} {
		filter := tc.filter
		_, err := odata.Parse(&schema, nil, &filter, nil)
		var qe *odata.Error
		if !errors.As(err, &qe) || qe.Option != "$filter" || qe.Message != tc.want {
			t.Errorf("%q: %v, want $filter: %s", tc.filter, err, tc.want)
		}
	}
	// Just under the limits is fine.
	ok := strings.Repeat("not ", odata.MaxDepth-1) + "ok eq true"
	if _, err := odata.Parse(&schema, nil, &ok, nil); err != nil {
		t.Errorf("%d nots: %v", odata.MaxDepth-1, err)
	}
}

func TestSelect(t *testing.T) {
	for _, tc := range []struct{ sel, want string }{
		{"name", `{"name":"eu-1"}`},
		{"status, name", `{"name":"eu-1","status":"active"}`}, // the schema's order
		{"size,note,ok", `{"note":"it's","ok":true,"size":1}`},
		{"*", `{"name":"eu-1","note":"it's","ok":true,"size":1,"status":"active"}`},
		{"name,name", `{"name":"eu-1"}`},
	} {
		sel := tc.sel
		q, err := odata.Parse(&schema, &sel, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.sel, err)
		}
		got, err := json.Marshal(q.Select(&items[0]))
		if err != nil || string(got) != tc.want || !q.Selects() {
			t.Errorf("$select=%s: %s (%v), want %s", tc.sel, got, err, tc.want)
		}
	}
	// An absent property is left out, not written as null.
	sel := "name,note"
	q, _ := odata.Parse(&schema, &sel, nil, nil)
	if got, _ := json.Marshal(q.Select(&items[1])); string(got) != `{"name":"eu-2"}` {
		t.Errorf("an item without note: %s", got)
	}
	for sel, want := range map[string]string{
		"name,nope": "Could not find a property named 'nope' on type 'test.item'.",
		"name,":     "an empty name in $select; list property names separated by commas.",
	} {
		_, err := odata.Parse(&schema, &sel, nil, nil)
		var qe *odata.Error
		if !errors.As(err, &qe) || qe.Option != "$select" || qe.Message != want {
			t.Errorf("$select=%s: %v, want %s", sel, err, want)
		}
	}
}

func TestOrderBy(t *testing.T) {
	for _, tc := range []struct {
		orderby string
		want    []string
	}{
		{"name", []string{"EU-3", "eu-1", "eu-2", "us-1"}}, // by bytes: upper case first
		{"name desc", []string{"us-1", "eu-2", "eu-1", "EU-3"}},
		{"status desc, name asc", []string{"eu-2", "EU-3", "eu-1", "us-1"}},
		{"ok desc", []string{"eu-1", "EU-3", "eu-2", "us-1"}}, // ties keep the items' order
		{"note", []string{"eu-2", "us-1", "EU-3", "eu-1"}},    // absent first
		{"note desc", []string{"eu-1", "EU-3", "eu-2", "us-1"}},
	} {
		ob := tc.orderby
		q, err := odata.Parse(&schema, nil, nil, &ob)
		if err != nil {
			t.Fatalf("%s: %v", tc.orderby, err)
		}
		sorted := slices.Clone(items)
		slices.SortStableFunc(sorted, func(a, b item) int { return q.Compare(&a, &b) })
		var got []string
		for _, v := range sorted {
			got = append(got, v.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("$orderby=%s: %q, want %q", tc.orderby, got, tc.want)
		}
	}
	for ob, want := range map[string]string{
		"size":           "property 'size' cannot be used in $orderby: only string, enum and boolean properties can.",
		"name sideways":  "'sideways' is not a direction; use asc or desc.",
		"name asc extra": "'name asc extra' is not a property and a direction; write 'name asc' or 'name desc'.",
		"name,name desc": "property 'name' appears twice in $orderby.",
		"name,":          "an empty item in $orderby; list property names separated by commas.",
		"nope":           "Could not find a property named 'nope' on type 'test.item'.",
	} {
		_, err := odata.Parse(&schema, nil, nil, &ob)
		var qe *odata.Error
		if !errors.As(err, &qe) || qe.Option != "$orderby" || qe.Message != want {
			t.Errorf("$orderby=%s: %v, want %s", ob, err, want)
		}
	}
}

// FuzzParse: any text either parses or is refused with an *Error naming
// $filter, never a panic; a filter that parses tests every item; and parsing
// stays within the limits whatever the text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"status eq 'active'", "not (ok eq true or name in ('a','b'))", "startswith(name,'x''y')",
		"note eq null and name ne 'a'", "((((", "name eq 'unterminated", "name eq 6a0d9b3e-2c9f-4a4e-9f55-000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		q, err := odata.Parse(&schema, nil, &filter, nil)
		if err != nil {
			var qe *odata.Error
			if !errors.As(err, &qe) || qe.Option != "$filter" || !utf8.ValidString(qe.Message) && utf8.ValidString(filter) {
				t.Fatalf("%q: %v", filter, err)
			}
			return
		}
		for i := range items {
			q.Match(&items[i])
		}
	})
}
