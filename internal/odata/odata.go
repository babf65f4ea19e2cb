// Package odata reads the OData query options a collection answers —
// $select, $filter and $orderby — against the properties of its items, and
// applies them to items of the generated model types.
//
// What a query may name of an item comes from the spec: internal/validatorgen
// writes a Schema for each collection's item type (generated/validation), so
// a property added to openapi/connector.yaml can be selected, filtered and
// sorted on after `make generate`, and a name the spec does not have is
// refused with the service's message.
//
// No maintained Go OData parser was at hand (github.com/CiscoM31/godata, the
// one the field uses, is not served by this project's module proxy), and the
// grammar the mock supports is small, so this package has its own: one pass
// over the text, recursion bounded by MaxDepth, a tree of at most
// MaxComparisons comparisons. Parsing is linear in the text, evaluating one
// item linear in the tree; FuzzParse holds both to their promises.
package odata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Kind is what a property's values are, as $filter and $orderby see them.
type Kind uint8

// The kinds of property. Only String, Enum and Bool properties can be
// filtered and sorted on; every property can be selected.
const (
	Other Kind = iota
	String
	Enum
	Bool
)

// Property is one property of the item type T.
type Property[T any] struct {
	// Name is the property's JSON name.
	Name string
	// Kind is what its values are.
	Kind Kind
	// Enum lists the values of an Enum property, in the spec's order.
	Enum []string
	// Text is the value as $filter and $orderby compare it (a Bool's is
	// "true" or "false"), and false when the item has none. Nil for Other.
	Text func(*T) (string, bool)
	// Value is the value as $select writes it, nil when the item has none.
	Value func(*T) any
}

// Schema is what a query may name of the items of type T.
type Schema[T any] struct {
	// Type is the items' OData type, as errors name it ("microsoft.graph.connector").
	Type string
	// Properties are the item's properties, in the spec's order.
	Properties []Property[T]
}

// The limits of a $filter, beyond the spec's limit on its length.
const (
	// MaxComparisons bounds the comparisons of a $filter (each value of an
	// `in` list counts), so that testing one item costs at most that many.
	MaxComparisons = 64
	// MaxDepth bounds how deep parentheses and `not` nest.
	MaxDepth = 32
)

// Error is a query option the mock cannot apply: Option names it ("$filter")
// and Message says why, in one sentence.
type Error struct {
	Option  string
	Message string
}

func (e *Error) Error() string { return e.Option + ": " + e.Message }

// Query is a request's $select, $filter and $orderby, read against a Schema.
// The zero of each option (nil) leaves the collection as it is.
type Query[T any] struct {
	schema   *Schema[T]
	selected []int // indexes into schema.Properties, in the schema's order; nil: every property
	filter   *node
	order    []orderKey
}

// Parse reads the options of a request (nil: not sent) against schema s.
func Parse[T any](s *Schema[T], sel, filter, orderby *string) (*Query[T], error) {
	q := &Query[T]{schema: s}
	var err error
	if sel != nil {
		if q.selected, err = parseSelect(s, *sel); err != nil {
			return nil, err
		}
	}
	if filter != nil {
		if q.filter, err = parseFilter(s, *filter); err != nil {
			return nil, err
		}
	}
	if orderby != nil {
		if q.order, err = parseOrderBy(s, *orderby); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// noProperty is the service's message for a name its type does not have.
func noProperty(typ, name string) string {
	return fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, typ)
}

// property finds the named property of s, or says in option's terms why not.
func (s *Schema[T]) property(option, name string, sortable bool) (int, error) {
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			if sortable && s.Properties[i].Kind == Other {
				return 0, &Error{option, fmt.Sprintf("property '%s' cannot be used in %s: only string, enum and boolean properties can.", name, option)}
			}
			return i, nil
		}
	}
	return 0, &Error{option, noProperty(s.Type, name)}
}

// parseSelect reads a comma-separated list of names, or `*`.
func parseSelect[T any](s *Schema[T], text string) ([]int, error) {
	chosen := make([]bool, len(s.Properties))
	for name := range strings.SplitSeq(text, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
			return nil, &Error{"$select", "an empty name in $select; list property names separated by commas."}
		case "*":
			for i := range chosen {
				chosen[i] = true
			}
			continue
		}
		i, err := s.property("$select", name, false)
		if err != nil {
			return nil, err
		}
		chosen[i] = true
	}
	var out []int
	for i, c := range chosen {
		if c {
			out = append(out, i)
		}
	}
	return out, nil
}

// Selects tells whether $select narrowed the items' properties.
func (q *Query[T]) Selects() bool { return q.selected != nil }

// Filters tells whether a $filter applies.
func (q *Query[T]) Filters() bool { return q.filter != nil }

// Orders tells whether $orderby sets the order.
func (q *Query[T]) Orders() bool { return q.order != nil }

// Match tells whether item v is one $filter keeps (every item, without one).
func (q *Query[T]) Match(v *T) bool {
	return q.filter == nil || eval(q.filter, q.schema, v)
}

// Select is item v as $select writes it: the selected properties it has,
// in the schema's order.
func (q *Query[T]) Select(v *T) json.Marshaler {
	return selection[T]{q, v}
}

type selection[T any] struct {
	q *Query[T]
	v *T
}

// MarshalJSON writes the selected properties the item has as one object.
func (s selection[T]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, i := range s.q.selected {
		p := &s.q.schema.Properties[i]
		value := p.Value(s.v)
		if value == nil {
			continue
		}
		raw, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", p.Name, err)
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(p.Name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(raw)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// orderKey is one property of $orderby and its direction.
type orderKey struct {
	property int
	desc     bool
}

// parseOrderBy reads `name [asc|desc]`, comma-separated.
func parseOrderBy[T any](s *Schema[T], text string) ([]orderKey, error) {
	var keys []orderKey
	seen := make([]bool, len(s.Properties))
	for item := range strings.SplitSeq(text, ",") {
		words := strings.Fields(item)
		if len(words) == 0 {
			return nil, &Error{"$orderby", "an empty item in $orderby; list property names separated by commas."}
		}
		if len(words) > 2 {
			return nil, &Error{"$orderby", fmt.Sprintf("'%s' is not a property and a direction; write 'name asc' or 'name desc'.", strings.TrimSpace(item))}
		}
		i, err := s.property("$orderby", words[0], true)
		if err != nil {
			return nil, err
		}
		if seen[i] {
			return nil, &Error{"$orderby", fmt.Sprintf("property '%s' appears twice in $orderby.", words[0])}
		}
		seen[i] = true
		key := orderKey{property: i}
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				key.desc = true
			default:
				return nil, &Error{"$orderby", fmt.Sprintf("'%s' is not a direction; use asc or desc.", words[1])}
			}
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// Compare orders a before b (-1), after it (1) or as its equal (0) as
// $orderby says: a property's absence before any value, false before true,
// text by its bytes (case-sensitive, as OData's comparison is).
func (q *Query[T]) Compare(a, b *T) int {
	for _, k := range q.order {
		p := &q.schema.Properties[k.property]
		at, aok := p.Text(a)
		bt, bok := p.Text(b)
		c := 0
		switch {
		case aok != bok:
			c = -1
			if aok {
				c = 1
			}
		default:
			c = strings.Compare(at, bt)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
