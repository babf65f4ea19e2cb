package odata

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// The grammar of $filter the mock reads (OData 4.01's, narrowed):
//
//	or      = and *( "or" and )
//	and     = unary *( "and" unary )
//	unary   = "not" unary / primary
//	primary = "(" or ")"
//	        / property ( "eq" / "ne" ) literal
//	        / property "in" "(" literal *( "," literal ) ")"
//	        / "startswith" "(" property "," string ")"
//	literal = string / "true" / "false" / "null" / guid
//
// Operators and function names are read in any case (OData 4.01; Graph's own
// pages write startsWith), property names as the schema spells them.

// nodeKind is what a node of the tree tests.
type nodeKind uint8

const (
	nodeOr nodeKind = iota
	nodeAnd
	nodeNot
	nodeEq
	nodeNe
	nodeIn
	nodeStartsWith
)

// node is one test of a $filter.
type node struct {
	kind        nodeKind
	left, right *node // or, and: both; not: left
	property    int
	values      []literal // eq, ne, startswith: one; in: one or more
}

// literal is a value a comparison names; null matches an absent property.
type literal struct {
	text string
	null bool
}

// tokenKind is what a token of $filter is.
type tokenKind uint8

const (
	tokEnd tokenKind = iota
	tokWord
	tokString
	tokOpen
	tokClose
	tokComma
)

type token struct {
	kind tokenKind
	text string // a word as written, a string's value
}

// parser reads one $filter.
type parser[T any] struct {
	s           *Schema[T]
	text        string
	pos         int
	tok         token
	comparisons int
}

func parseFilter[T any](s *Schema[T], text string) (*node, error) {
	p := &parser[T]{s: s, text: text}
	if err := p.next(); err != nil {
		return nil, err
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEnd {
		return nil, p.fail("'%s' where the expression should end", p.describe())
	}
	return n, nil
}

func (p *parser[T]) fail(format string, args ...any) error {
	return &Error{"$filter", fmt.Sprintf(format, args...) + "."}
}

// describe names the current token for an error.
func (p *parser[T]) describe() string {
	switch p.tok.kind {
	case tokEnd:
		return "the end"
	case tokString:
		return "'" + strings.ReplaceAll(p.tok.text, "'", "''") + "'"
	default:
		return p.tok.text
	}
}

// next reads the token after the current one.
func (p *parser[T]) next() error {
	t := p.text
	for p.pos < len(t) && (t[p.pos] == ' ' || t[p.pos] == '\t') {
		p.pos++
	}
	if p.pos == len(t) {
		p.tok = token{kind: tokEnd}
		return nil
	}
	start := p.pos
	switch c := t[p.pos]; {
	case c == '(':
		p.pos++
		p.tok = token{tokOpen, "("}
	case c == ')':
		p.pos++
		p.tok = token{tokClose, ")"}
	case c == ',':
		p.pos++
		p.tok = token{tokComma, ","}
	case c == '\'':
		var b strings.Builder
		p.pos++
		for {
			i := strings.IndexByte(t[p.pos:], '\'')
			if i < 0 {
				return p.fail("a string that starts at %d has no closing quote", start+1)
			}
			b.WriteString(t[p.pos : p.pos+i])
			p.pos += i + 1
			if p.pos < len(t) && t[p.pos] == '\'' { // '' is a quote
				b.WriteByte('\'')
				p.pos++
				continue
			}
			break
		}
		p.tok = token{tokString, b.String()}
	case isWordByte(c):
		for p.pos < len(t) && isWordByte(t[p.pos]) {
			p.pos++
		}
		p.tok = token{tokWord, t[start:p.pos]}
	default:
		r := []rune(t[start:min(len(t), start+4)])[0]
		return p.fail("%q at %d is not part of the supported syntax", r, start+1)
	}
	return nil
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '@' || c == '$' || c == '/' || c == ':' || c == '+'
}

// is tells whether the current token is the keyword kw, in any case.
func (p *parser[T]) is(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

func (p *parser[T]) or(depth int) (*node, error) {
	left, err := p.and(depth)
	for err == nil && p.is("or") {
		var right *node
		if err = p.next(); err == nil {
			if right, err = p.and(depth); err == nil {
				left = &node{kind: nodeOr, left: left, right: right}
			}
		}
	}
	return left, err
}

func (p *parser[T]) and(depth int) (*node, error) {
	left, err := p.unary(depth)
	for err == nil && p.is("and") {
		var right *node
		if err = p.next(); err == nil {
			if right, err = p.unary(depth); err == nil {
				left = &node{kind: nodeAnd, left: left, right: right}
			}
		}
	}
	return left, err
}

func (p *parser[T]) unary(depth int) (*node, error) {
	if depth >= MaxDepth {
		return nil, p.fail("parentheses and not nest deeper than %d", MaxDepth)
	}
	if p.is("not") {
		if err := p.next(); err != nil {
			return nil, err
		}
		inner, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeNot, left: inner}, nil
	}
	return p.primary(depth)
}

func (p *parser[T]) primary(depth int) (*node, error) {
	switch {
	case p.tok.kind == tokOpen:
		if err := p.next(); err != nil {
			return nil, err
		}
		inner, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokClose {
			return nil, p.fail("'%s' where ')' should be", p.describe())
		}
		return inner, p.next()
	case p.tok.kind != tokWord:
		return nil, p.fail("'%s' where a property or a function should be", p.describe())
	}
	word := p.tok.text
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokOpen {
		if !strings.EqualFold(word, "startswith") {
			return nil, p.fail("the function '%s' is not supported; startswith is", word)
		}
		return p.startsWith()
	}
	prop, err := p.s.property("$filter", word, true)
	if err != nil {
		return nil, err
	}
	switch {
	case p.is("eq"), p.is("ne"):
		kind := nodeEq
		if p.is("ne") {
			kind = nodeNe
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		v, err := p.literal(prop)
		if err != nil {
			return nil, err
		}
		return &node{kind: kind, property: prop, values: []literal{v}}, nil
	case p.is("in"):
		return p.in(prop)
	case p.tok.kind == tokWord:
		return nil, p.fail("the operator '%s' is not supported; eq, ne and in are", p.tok.text)
	default:
		return nil, p.fail("'%s' where an operator (eq, ne, in) should follow '%s'", p.describe(), word)
	}
}

// count counts a comparison against MaxComparisons.
func (p *parser[T]) count() error {
	p.comparisons++
	if p.comparisons > MaxComparisons {
		return p.fail("more than %d comparisons", MaxComparisons)
	}
	return nil
}

// literal reads a value for property prop, checked against its kind.
func (p *parser[T]) literal(prop int) (literal, error) {
	if err := p.count(); err != nil {
		return literal{}, err
	}
	pr := &p.s.Properties[prop]
	var v literal
	switch {
	case p.is("null"):
		v.null = true
	case p.is("true"), p.is("false"):
		if pr.Kind != Bool {
			return v, p.fail("%s is a %s property; compare it with a string in quotes, not %s", pr.Name, kindName(pr.Kind), p.tok.text)
		}
		v.text = strings.ToLower(p.tok.text)
	case p.tok.kind == tokString:
		if pr.Kind == Bool {
			return v, p.fail("%s is a boolean property; compare it with true or false, not '%s'", pr.Name, p.tok.text)
		}
		if pr.Kind == Enum && !slices.Contains(pr.Enum, p.tok.text) {
			return v, p.fail("'%s' is not a value of %s; its values are %s", p.tok.text, pr.Name, strings.Join(pr.Enum, ", "))
		}
		v.text = p.tok.text
	case p.tok.kind == tokWord && pr.Kind == String:
		id, err := uuid.Parse(p.tok.text)
		if err != nil || len(p.tok.text) != 36 {
			return v, p.fail("'%s' is not a value: write a string in single quotes, or a GUID", p.tok.text)
		}
		v.text = id.String()
	default:
		return v, p.fail("'%s' where a value should be", p.describe())
	}
	return v, p.next()
}

func kindName(k Kind) string {
	switch k {
	case String:
		return "string"
	case Enum:
		return "enum"
	case Bool:
		return "boolean"
	}
	return "other"
}

// in reads `in (v, …)` after the property prop.
func (p *parser[T]) in(prop int) (*node, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokOpen {
		return nil, p.fail("'%s' where in's '(' should be", p.describe())
	}
	n := &node{kind: nodeIn, property: prop}
	for {
		if err := p.next(); err != nil {
			return nil, err
		}
		v, err := p.literal(prop)
		if err != nil {
			return nil, err
		}
		n.values = append(n.values, v)
		switch p.tok.kind {
		case tokComma:
			continue
		case tokClose:
			return n, p.next()
		default:
			return nil, p.fail("'%s' where ',' or ')' should be in the list of in", p.describe())
		}
	}
}

// startsWith reads `(property, 'text')` after startswith.
func (p *parser[T]) startsWith() (*node, error) {
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokWord {
		return nil, p.fail("'%s' where startswith's property should be", p.describe())
	}
	prop, err := p.s.property("$filter", p.tok.text, true)
	if err != nil {
		return nil, err
	}
	if k := p.s.Properties[prop].Kind; k != String && k != Enum {
		return nil, p.fail("startswith takes a string property; %s is %s", p.s.Properties[prop].Name, kindName(k))
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokComma {
		return nil, p.fail("'%s' where startswith's ',' should be", p.describe())
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokString {
		return nil, p.fail("'%s' where startswith's string in quotes should be", p.describe())
	}
	if err := p.count(); err != nil {
		return nil, err
	}
	n := &node{kind: nodeStartsWith, property: prop, values: []literal{{text: p.tok.text}}}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokClose {
		return nil, p.fail("'%s' where startswith's ')' should be", p.describe())
	}
	return n, p.next()
}

// eval tests item v.
func eval[T any](n *node, s *Schema[T], v *T) bool {
	switch n.kind {
	case nodeOr:
		return eval(n.left, s, v) || eval(n.right, s, v)
	case nodeAnd:
		return eval(n.left, s, v) && eval(n.right, s, v)
	case nodeNot:
		return !eval(n.left, s, v)
	}
	text, ok := s.Properties[n.property].Text(v)
	switch n.kind {
	case nodeEq:
		return n.values[0].matches(text, ok)
	case nodeNe:
		return !n.values[0].matches(text, ok)
	case nodeIn:
		for _, l := range n.values {
			if l.matches(text, ok) {
				return true
			}
		}
		return false
	case nodeStartsWith:
		return ok && strings.HasPrefix(text, n.values[0].text)
	}
	return false
}

// matches tells whether a property whose value is text (ok: it has one) equals l.
func (l literal) matches(text string, ok bool) bool {
	if l.null {
		return !ok
	}
	return ok && text == l.text
}
