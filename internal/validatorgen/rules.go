package main

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The intermediate form: before any code is written, every schema the
// generator must check is turned into a node, the checks that apply to it.
// Each check comes from one keywordRule, and the keywords a schema may use
// are those of the rules in keywordRules and nothing else (plus annotations,
// which change nothing to validation). Adding a keyword is adding one rule:
// a keyword without a rule cannot be accepted, because nothing else lists
// what is accepted.

// node is one schema as the generated code checks it.
type node struct {
	where    string // where the schema is, for messages
	typ      string // object, array, string, integer, number or boolean
	nullable bool
	readOnly bool    // a property the server sets: a request that sends it is refused
	format   string  // a string's format: how the model may keep the value (uuid, date-time)
	checks   []check // the value's own checks, in the order they run
	enum     []any   // the enum's values, as the spec writes them (for the generated lists)

	// An object's properties, sorted by name, and which are required (in
	// the spec's order, which numbers them in the generated code).
	properties []property
	required   []string
	closed     bool  // additionalProperties: false
	values     *node // additionalProperties' schema: an object of any names whose values it checks (a map)

	items *node // an array's items

	forms []oneOfForm // a oneOf's forms (typ is typeOneOf)
}

// typeOneOf is the type of a schema that is one of several forms.
const typeOneOf = "oneOf"

// oneOfForm is one form of a oneOf: a component schema of type object.
type oneOfForm struct {
	name  string // the component's name
	value *node
}

// property is one property of an object.
type property struct {
	name  string
	value *node
}

// check is one rule a value must pass. subject names the value and the
// statement that reports a violation.
type check interface {
	// holds is a Go expression that is true when v passes.
	holds(e *emitter, v subject) string
	// emit writes the statements that check v and report what it breaks.
	emit(e *emitter, w *writer, v subject)
}

// keywordRule reads the keywords it implements from a schema into its node.
type keywordRule struct {
	keywords []string
	read     func(b *builder, s *openapi3.Schema, n *node)
}

// keywordRules are every keyword the generator implements, each owned by
// one rule. The type is read first: the others depend on it. (A function, as
// the rules build the nodes of nested schemas with these same rules.)
func keywordRules() []keywordRule {
	return []keywordRule{
		{[]string{"type"}, readType},
		{[]string{"nullable"}, func(_ *builder, s *openapi3.Schema, n *node) { n.nullable = s.Nullable }},
		{[]string{"readOnly"}, func(_ *builder, s *openapi3.Schema, n *node) { n.readOnly = s.ReadOnly }},
		{[]string{"properties", "required", "additionalProperties"}, readObject},
		{[]string{"items"}, readItems},
		{[]string{"minItems", "maxItems"}, readItemCount},
		{[]string{"minProperties", "maxProperties"}, readPropertyCount},
		{[]string{"anyOf"}, readAnyOf},
		{[]string{"enum"}, readEnum},
		{[]string{"minLength", "maxLength"}, readLength},
		{[]string{"pattern"}, readPattern},
		{[]string{"format"}, readFormat},
		{[]string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}, readBounds},
		{[]string{"oneOf"}, readOneOf},
	}
}

// annotations are the keywords that change nothing to validation, and
// oapi-codegen's hints about the Go code, which the models file reflects.
var annotations = []string{
	"description", "title", "example", "default", "deprecated", "externalDocs",
	"x-go-type", "x-go-name", "x-go-type-skip-optional-pointer", "x-oapi-codegen-extra-tags", "x-order",
}

// branchKeywords are the keywords an anyOf branch may use: a string's
// checks, each of which can be written as one condition.
var branchKeywords = []string{"type", "format", "enum", "minLength", "maxLength", "pattern"}

// supportedKeywords is every keyword a schema may use.
func supportedKeywords() []string {
	out := slices.Clone(annotations)
	for _, r := range keywordRules() {
		out = append(out, r.keywords...)
	}
	slices.Sort(out)
	return out
}

// formats are the string formats implemented: the function telling a valid value.
var formats = map[string]string{
	"uuid":      "reqcheck.IsGUID",
	"ipv4":      "reqcheck.IsIPv4",
	"ipv6":      "reqcheck.IsIPv6",
	"date-time": "reqcheck.IsDateTime",
}

// numberFormats only choose the Go type of an integer or a number.
var numberFormats = []string{"int32", "int64", "float", "double"}

// builder turns schemas into nodes, collecting every problem so that one
// run names them all.
type builder struct {
	problems []error
	byRef    map[string]*node // the node of each component schema, built once: a recursive schema is a cycle of nodes
}

func (b *builder) fail(err error) { b.problems = append(b.problems, err) }

func (b *builder) unsupported(where, keyword, detail string) {
	b.fail(&unsupportedError{where: where, keyword: keyword, detail: detail})
}

// build is the node of a schema; allowed narrows the keywords (nil: all
// supported ones), and implied is the type of a schema that names none ("":
// it must name one).
func (b *builder) build(ref *openapi3.SchemaRef, where string, allowed []string, implied string) *node {
	where = schemaWhere(ref, where)
	memo := ref.Ref != "" && allowed == nil && implied == ""
	if n, ok := b.byRef[ref.Ref]; memo && ok {
		return n
	}
	n := &node{where: where, typ: implied}
	if memo {
		if b.byRef == nil {
			b.byRef = map[string]*node{}
		}
		b.byRef[ref.Ref] = n
	}
	s := ref.Value
	if s == nil {
		b.fail(fmt.Errorf("%s: an unresolved schema", where))
		return n
	}
	keys, err := keysOf(s)
	if err != nil {
		b.fail(fmt.Errorf("%s: %w", where, err))
		return n
	}
	ok := true
	for _, k := range keys {
		if slices.Contains(annotations, k) {
			continue
		}
		if !slices.Contains(supportedKeywords(), k) || allowed != nil && !slices.Contains(allowed, k) {
			b.unsupported(where, k, "")
			ok = false
		}
	}
	if !ok {
		return n
	}
	for _, r := range keywordRules() {
		r.read(b, s, n)
	}
	return n
}

func readType(b *builder, s *openapi3.Schema, n *node) {
	switch {
	case s.Type != nil:
		n.typ = typeOf(s)
	case len(s.OneOf) > 0:
		n.typ = typeOneOf // each form names its own
	}
	switch n.typ {
	case openapi3.TypeObject, openapi3.TypeArray, openapi3.TypeString, openapi3.TypeInteger,
		openapi3.TypeNumber, openapi3.TypeBoolean, typeOneOf:
	default:
		b.unsupported(n.where, "type", "a schema needs exactly one type")
	}
}

func readObject(b *builder, s *openapi3.Schema, n *node) {
	if n.typ != openapi3.TypeObject {
		if len(s.Properties) > 0 || len(s.Required) > 0 {
			b.unsupported(n.where, "properties", "properties of a "+n.typ)
		}
		return
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		n.properties = append(n.properties, property{name: name, value: b.build(s.Properties[name], n.where+".properties."+name, nil, "")})
	}
	if len(s.Required) > 64 {
		b.unsupported(n.where, "required", "more than 64 required properties")
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			b.fail(fmt.Errorf("%s: required property %q is not among the properties", n.where, r))
		}
	}
	n.required = s.Required
	ap := s.AdditionalProperties
	if ap.Schema != nil {
		if len(s.Properties) > 0 {
			b.unsupported(n.where, "additionalProperties", "additionalProperties with a schema beside properties")
		}
		n.values = b.build(ap.Schema, n.where+".additionalProperties", nil, "")
	}
	n.closed = ap.Has != nil && !*ap.Has
}

func readItems(b *builder, s *openapi3.Schema, n *node) {
	if n.typ != openapi3.TypeArray {
		return
	}
	if s.Items == nil {
		b.unsupported(n.where, "items", "an array needs items")
		return
	}
	n.items = b.build(s.Items, n.where+".items", nil, "")
}

// countBounds is minItems and maxItems on an array, or minProperties and
// maxProperties on a map: bounds on a count, reported with the reqcheck
// messages of its unit (MsgMinItems, MsgMaxProperties, …).
type countBounds struct {
	min  uint64
	max  *uint64
	unit string // Items or Properties
}

// readPropertyCount reads the bounds on a map's number of properties (an
// object of named properties has its bound in what it declares).
func readPropertyCount(b *builder, s *openapi3.Schema, n *node) {
	if s.MinProps == 0 && s.MaxProps == nil {
		return
	}
	if n.values == nil {
		b.unsupported(n.where, "maxProperties", "minProperties or maxProperties on an object that is no map (additionalProperties with a schema)")
		return
	}
	n.checks = append(n.checks, countBounds{min: s.MinProps, max: s.MaxProps, unit: "Properties"})
}

// maxProperties is a map's maxProperties, or 0 for none.
func (n *node) maxProperties() uint64 {
	for _, c := range n.checks {
		if pc, ok := c.(countBounds); ok && pc.unit == "Properties" && pc.max != nil {
			return *pc.max
		}
	}
	return 0
}

func readItemCount(_ *builder, s *openapi3.Schema, n *node) {
	if s.MinItems > 0 || s.MaxItems != nil {
		n.checks = append(n.checks, countBounds{min: s.MinItems, max: s.MaxItems, unit: "Items"})
	}
}

func (c countBounds) holds(_ *emitter, v subject) string {
	var conds []string
	if c.min > 0 {
		conds = append(conds, fmt.Sprintf("%s >= %d", v.value, c.min))
	}
	if c.max != nil {
		conds = append(conds, fmt.Sprintf("%s <= %d", v.value, *c.max))
	}
	return strings.Join(conds, " && ")
}

func (c countBounds) emit(_ *emitter, w *writer, v subject) {
	var r rangeCheck
	if c.min > 0 {
		r.low, r.lowMsg = fmt.Sprintf("%s < %d", v.value, c.min), v.report(fmt.Sprintf("reqcheck.MsgMin%s(%d)", c.unit, c.min))
	}
	if c.max != nil {
		r.high, r.highMsg = fmt.Sprintf("%s > %d", v.value, *c.max), v.report(fmt.Sprintf("reqcheck.MsgMax%s(%d)", c.unit, *c.max))
	}
	w.rangeCheck(r)
}

// anyOf is a string that passes at least one of the branches, each a few
// string checks.
type anyOf struct {
	branches []*node
}

func readAnyOf(b *builder, s *openapi3.Schema, n *node) {
	if len(s.AnyOf) == 0 {
		return
	}
	if n.typ != openapi3.TypeString {
		b.unsupported(n.where, "anyOf", "anyOf of a "+n.typ+"; only of string checks")
		return
	}
	var c anyOf
	for i, ref := range s.AnyOf {
		branch := b.build(ref, fmt.Sprintf("%s.anyOf[%d]", n.where, i), branchKeywords, openapi3.TypeString)
		if branch.typ != openapi3.TypeString {
			b.unsupported(branch.where, "type", "anyOf branches of type "+branch.typ)
			continue
		}
		c.branches = append(c.branches, branch)
	}
	n.checks = append(n.checks, c)
}

func (c anyOf) holds(e *emitter, v subject) string {
	alternatives := make([]string, len(c.branches))
	for i, branch := range c.branches {
		var conds []string
		for _, ch := range branch.checks {
			conds = append(conds, ch.holds(e, v))
		}
		switch len(conds) {
		case 0:
			alternatives[i] = "true"
		case 1:
			alternatives[i] = conds[0]
		default:
			alternatives[i] = "(" + strings.Join(conds, " && ") + ")"
		}
	}
	return strings.Join(alternatives, " || ")
}

func (c anyOf) emit(e *emitter, w *writer, v subject) {
	cond, report := c.violation(e, v)
	w.line("if %s {\n%s\n}", cond, report)
}

// names lists the branches as a message says them: by format, else "string".
func (c anyOf) names() string {
	names := make([]string, len(c.branches))
	for i, b := range c.branches {
		names[i] = "string"
		if b.format != "" {
			names[i] = b.format
		}
	}
	return strings.Join(names, " or ")
}

// enum is a value that must be one of a list: strings, or integers.
type enum struct {
	values []string // as Go literals
	listed string   // as a message lists them
}

func readEnum(b *builder, s *openapi3.Schema, n *node) {
	if len(s.Enum) == 0 {
		return
	}
	var c enum
	var listed []string
	for _, value := range s.Enum {
		switch n.typ {
		case openapi3.TypeString:
			str, ok := value.(string)
			if !ok {
				b.unsupported(n.where, "enum", "enum values that are not strings")
				return
			}
			c.values = append(c.values, strconv.Quote(str))
			listed = append(listed, str)
		case openapi3.TypeInteger:
			f, ok := value.(float64)
			if !ok || f != math.Trunc(f) {
				b.unsupported(n.where, "enum", "an integer enum with a value that is no integer")
				return
			}
			c.values = append(c.values, num(f))
			listed = append(listed, num(f))
		default:
			b.unsupported(n.where, "enum", "an enum of a "+n.typ)
			return
		}
	}
	c.listed = strings.Join(listed, ", ")
	n.enum = s.Enum
	n.checks = append(n.checks, c)
}

func (c enum) holds(_ *emitter, v subject) string {
	conds := make([]string, len(c.values))
	for i, value := range c.values {
		conds[i] = v.value + " == " + value
	}
	if len(conds) == 1 {
		return conds[0]
	}
	return "(" + strings.Join(conds, " || ") + ")"
}

func (c enum) emit(e *emitter, w *writer, v subject) {
	cond, report := c.violation(e, v)
	w.line("if %s {\n%s\n}", cond, report)
}

// length is minLength and maxLength: a string's length in characters.
type length struct {
	min uint64
	max *uint64
}

func readLength(b *builder, s *openapi3.Schema, n *node) {
	if s.MinLength == 0 && s.MaxLength == nil {
		return
	}
	if n.typ != openapi3.TypeString {
		b.unsupported(n.where, "minLength", "a length of a "+n.typ)
		return
	}
	n.checks = append(n.checks, length{min: s.MinLength, max: s.MaxLength})
}

func (c length) holds(_ *emitter, v subject) string {
	var conds []string
	if c.min > 0 {
		conds = append(conds, fmt.Sprintf("reqcheck.Length(%s) >= %d", v.value, c.min))
	}
	if c.max != nil {
		conds = append(conds, fmt.Sprintf("reqcheck.Length(%s) <= %d", v.value, *c.max))
	}
	return strings.Join(conds, " && ")
}

func (c length) emit(_ *emitter, w *writer, v subject) {
	if c.min == 0 {
		w.rangeCheck(rangeCheck{high: fmt.Sprintf("reqcheck.Length(%s) > %d", v.value, *c.max),
			highMsg: v.report(fmt.Sprintf("reqcheck.MsgMaxLength(%d)", *c.max))})
		return
	}
	r := rangeCheck{init: fmt.Sprintf("length := reqcheck.Length(%s)", v.value)}
	if c.min > 0 {
		r.low, r.lowMsg = fmt.Sprintf("length < %d", c.min), v.report(fmt.Sprintf("reqcheck.MsgMinLength(%d)", c.min))
	}
	if c.max != nil {
		r.high, r.highMsg = fmt.Sprintf("length > %d", *c.max), v.report(fmt.Sprintf("reqcheck.MsgMaxLength(%d)", *c.max))
	}
	w.rangeCheck(r)
}

// pattern is a string that must match a regular expression. Go's regexp
// (RE2) runs in time linear in its input.
type pattern struct {
	expr  string
	where string
}

func readPattern(b *builder, s *openapi3.Schema, n *node) {
	if s.Pattern == "" {
		return
	}
	if _, err := regexp.Compile(s.Pattern); err != nil {
		b.unsupported(n.where, "pattern", fmt.Sprintf("%q is not an RE2 pattern: %v", s.Pattern, err))
		return
	}
	if n.typ != openapi3.TypeString {
		b.unsupported(n.where, "pattern", "a pattern of a "+n.typ)
		return
	}
	n.checks = append(n.checks, pattern{expr: s.Pattern, where: n.where})
}

func (c pattern) holds(e *emitter, v subject) string {
	return e.pattern(c) + ".MatchString(" + v.value + ")"
}

func (c pattern) emit(e *emitter, w *writer, v subject) {
	w.line("if !%s {", c.holds(e, v))
	w.line("\t%s", v.report(fmt.Sprintf("reqcheck.MsgPattern(%s, %q)", v.value, c.expr)))
	w.line("}")
}

// formatCheck is a string format with a check of its own.
type formatCheck struct {
	name string
}

func readFormat(b *builder, s *openapi3.Schema, n *node) {
	if s.Format == "" {
		return
	}
	switch n.typ {
	case openapi3.TypeString:
		if formats[s.Format] == "" {
			b.unsupported(n.where, "format", "format "+strconv.Quote(s.Format))
			return
		}
		n.format = s.Format
		n.checks = append(n.checks, formatCheck{name: s.Format})
	case openapi3.TypeInteger, openapi3.TypeNumber:
		if !slices.Contains(numberFormats, s.Format) {
			b.unsupported(n.where, "format", "format "+strconv.Quote(s.Format))
		}
	default:
		b.unsupported(n.where, "format", "a format of a "+n.typ)
	}
}

func (c formatCheck) holds(_ *emitter, v subject) string {
	return formats[c.name] + "(" + v.value + ")"
}

func (c formatCheck) emit(e *emitter, w *writer, v subject) {
	w.line("if !%s {", c.holds(e, v))
	w.line("\t%s", v.report(fmt.Sprintf("reqcheck.MsgFormat(%s, %q)", v.value, c.name)))
	w.line("}")
}

// bounds is minimum and maximum, either exclusive: a number's range.
type bounds struct {
	min, max         *float64
	exclMin, exclMax bool
}

func readBounds(b *builder, s *openapi3.Schema, n *node) {
	if s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil {
		b.unsupported(n.where, "exclusiveMinimum", "the OpenAPI 3.1 number form")
		return
	}
	if s.Min == nil && s.Max == nil {
		return
	}
	if n.typ != openapi3.TypeInteger && n.typ != openapi3.TypeNumber {
		b.unsupported(n.where, "minimum", "bounds of a "+n.typ)
		return
	}
	n.checks = append(n.checks, bounds{min: s.Min, max: s.Max,
		exclMin: s.ExclusiveMin.Bool != nil && *s.ExclusiveMin.Bool, exclMax: s.ExclusiveMax.Bool != nil && *s.ExclusiveMax.Bool})
}

// ops are the comparisons that break the bounds.
func (c bounds) ops() (belowMin, aboveMax string) {
	belowMin, aboveMax = "<", ">"
	if c.exclMin {
		belowMin = "<="
	}
	if c.exclMax {
		aboveMax = ">="
	}
	return belowMin, aboveMax
}

func (c bounds) holds(_ *emitter, v subject) string {
	below, above := c.ops()
	var conds []string
	if c.min != nil {
		conds = append(conds, fmt.Sprintf("!(%s %s %s)", v.value, below, num(*c.min)))
	}
	if c.max != nil {
		conds = append(conds, fmt.Sprintf("!(%s %s %s)", v.value, above, num(*c.max)))
	}
	return strings.Join(conds, " && ")
}

func (c bounds) emit(_ *emitter, w *writer, v subject) {
	below, above := c.ops()
	var r rangeCheck
	if c.min != nil {
		r.low = fmt.Sprintf("%s %s %s", v.value, below, num(*c.min))
		r.lowMsg = v.report(fmt.Sprintf("reqcheck.MsgMinimum(%s, %q, %t)", v.text, num(*c.min), c.exclMin))
	}
	if c.max != nil {
		r.high = fmt.Sprintf("%s %s %s", v.value, above, num(*c.max))
		r.highMsg = v.report(fmt.Sprintf("reqcheck.MsgMaximum(%s, %q, %t)", v.text, num(*c.max), c.exclMax))
	}
	w.rangeCheck(r)
}

// readOneOf reads a oneOf whose forms are component schemas of type object,
// each decoded into its own generated type: what a body of several forms
// (such as a connector, or an OData reference to one) needs.
func readOneOf(b *builder, s *openapi3.Schema, n *node) {
	if len(s.OneOf) == 0 {
		return
	}
	if n.typ != typeOneOf {
		b.unsupported(n.where, "oneOf", "oneOf beside a type; give the type in each form")
		return
	}
	const components = "#/components/schemas/"
	for i, ref := range s.OneOf {
		where := fmt.Sprintf("%s.oneOf[%d]", n.where, i)
		if !strings.HasPrefix(ref.Ref, components) {
			b.unsupported(where, "oneOf", "a form that is not a $ref to a component schema")
			continue
		}
		form := b.build(ref, where, nil, "")
		if form.typ != openapi3.TypeObject {
			b.unsupported(form.where, "oneOf", "a form of type "+form.typ+"; only objects")
			continue
		}
		n.forms = append(n.forms, oneOfForm{name: strings.TrimPrefix(ref.Ref, components), value: form})
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
