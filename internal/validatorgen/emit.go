package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// writer collects generated lines; gofmt indents them afterwards.
type writer struct{ bytes.Buffer }

// text is what w holds, without its last newline: to embed in a line.
func (w *writer) text() string { return strings.TrimSuffix(w.String(), "\n") }

func (w *writer) line(format string, args ...any) {
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// rangeCheck is a value checked against a lower and an upper bound, either
// of which may be absent, with an optional init statement.
type rangeCheck struct {
	init                       string
	low, lowMsg, high, highMsg string
}

func (w *writer) rangeCheck(r rangeCheck) {
	init := ""
	if r.init != "" {
		init = r.init + "; "
	}
	switch {
	case r.low != "" && r.high != "":
		w.line("if %s%s {\n%s\n} else if %s {\n%s\n}", init, r.low, r.lowMsg, r.high, r.highMsg)
	case r.low != "":
		w.line("if %s%s {\n%s\n}", init, r.low, r.lowMsg)
	case r.high != "":
		w.line("if %s%s {\n%s\n}", init, r.high, r.highMsg)
	}
}

// subject is a value being checked: its Go expression, its text as the
// client wrote it (for messages), and how a violation is reported.
type subject struct {
	value, text string
	report      func(message string) string
}

// guard is a check that stands alone: a value that breaks it is checked no
// further (it is none of the allowed values; nothing more is worth saying).
type guard interface {
	check
	violation(e *emitter, v subject) (cond, report string)
}

func (c enum) violation(_ *emitter, v subject) (string, string) {
	conds := make([]string, len(c.values))
	for i, value := range c.values {
		conds[i] = v.value + " != " + value
	}
	return strings.Join(conds, " && "), v.report(fmt.Sprintf("reqcheck.MsgEnum(%s, %q)", v.text, c.listed))
}

func (c anyOf) violation(e *emitter, v subject) (string, string) {
	return "!(" + c.holds(e, v) + ")", v.report(fmt.Sprintf("reqcheck.MsgAlternatives(%s, %q)", v.value, c.names()))
}

// opPlan is one operation as the generated code checks it.
type opPlan struct {
	operation
	params     []paramPlan
	body       *bodyPlan
	mediaTypes []string
}

type paramPlan struct {
	p     *openapi3.Parameter
	ref   string // the component, for a shared parameter
	value *node
}

type bodyPlan struct {
	required bool
	typeName string // the generated body type
	value    *node
}

// enumList is a model type whose values the generated code lists.
type enumList struct {
	typeName, schema string
	values           []string // Go literals
}

// emitter writes the generated files from the plans.
type emitter struct {
	models       *models
	modelsImport string
	server       *serverAPI
	b            *builder

	imports      map[string]string // name -> path, of what the output uses
	patterns     map[string]string // expression -> the variable holding it compiled
	patternVars  writer
	decoders     writer
	decoderOf    map[string]bool // model types with a decode function written or queued
	queue        []decodeJob
	paramFns     writer
	paramFnOf    map[string]string // component parameter -> its check function
	formsWritten map[string]bool   // the oneOf form lists written to paramFns
	enums        map[string]enumList
	usedNames    map[string]bool
}

type decodeJob struct {
	typeName string
	value    *node
	st       *ast.StructType
}

func newEmitter(m *models, modelsImport string, server *serverAPI, b *builder) *emitter {
	return &emitter{models: m, modelsImport: modelsImport, server: server, b: b,
		imports:  map[string]string{"reqcheck": "github.com/connector-group/members-api/internal/reqcheck"},
		patterns: map[string]string{}, decoderOf: map[string]bool{}, paramFnOf: map[string]string{}, formsWritten: map[string]bool{},
		enums: map[string]enumList{}, usedNames: map[string]bool{}}
}

// paramsPlaceholder stands for the name of the struct a check function
// fills, in the code of the function until it is named.
const paramsPlaceholder = "PARAMS\x00"

// checkFunction writes the body of an operation's check function: each
// parameter checked and parsed, once, into the struct of parameters (p), the
// body decoded, and both returned.
func (e *emitter) checkFunction(w *writer, o opPlan, m *method) {
	var query []string
	ret := "reqcheck.Checked{}"
	if len(o.params) > 0 {
		w.line("p := new(%s)", paramsPlaceholder)
		ret = "reqcheck.Checked{Params: p}"
	}
	for _, pp := range o.params {
		dst, typ := e.destination(o, m, pp)
		if typ == nil {
			continue
		}
		if pp.ref != "" {
			w.line("%s(in, vs, %s)", e.parameterFunction(pp, typ), dst)
		} else {
			e.parameter(w, pp, dst, typ)
		}
		if pp.p.In == openapi3.ParameterInQuery {
			query = append(query, strconv.Quote(pp.p.Name))
		}
	}
	w.line("reqcheck.UnknownOptions(%s)", strings.Join(append([]string{"in.Query", "vs"}, query...), ", "))
	if o.body == nil {
		w.line("return %s", ret)
		return
	}
	withBody := strings.TrimSuffix(ret, "}")
	if len(o.params) > 0 {
		withBody += ", "
	}
	withBody += "Body: %s}"
	e.imports["generated"] = e.modelsImport
	w.line("if len(in.Body) == 0 {")
	if o.body.required {
		w.line(`vs.Add("", reqcheck.MsgBodyRequired)`)
	}
	w.line("return %s\n}", ret)
	if o.body.value.typ == typeOneOf {
		e.oneOf(w, o.body.value, withBody)
		return
	}
	w.line("body := new(generated.%s)", o.body.typeName)
	w.line("d := reqcheck.NewDecoder(in.Body, vs)")
	e.value(w, o.body.value, &ast.Ident{Name: o.body.typeName}, "body", "body")
	w.line("if !d.Finish() || vs.Len() > 0 {\nreturn %s\n}\nreturn %s", ret, fmt.Sprintf(withBody, "body"))
}

// handlers writes Handlers: each operation bound to its method of the server
// interface, called with the parameters its check parsed. It replaces
// oapi-codegen's wrapper, which would bind every parameter again.
func (e *emitter) handlers(w *writer, plans []opPlan, methods []*method, check func(int) string) {
	e.imports["echo"] = "github.com/labstack/echo/v4"
	e.imports[e.server.pkg] = e.server.path
	w.line("// Handlers binds every operation to its method of si, by operationId: each")
	w.line("// is called with the Params of reqcheck.Checked its check returned.")
	w.line("func Handlers(si %s.ServerInterface) map[string]func(c echo.Context, params any) error {", e.server.pkg)
	w.line("return map[string]func(echo.Context, any) error{")
	firstParams := map[string]ast.Expr{} // check function -> the Params type its struct holds
	for i, o := range plans {
		m := methods[i]
		if len(o.params) == 0 {
			w.line("%q: func(c echo.Context, _ any) error {\nreturn si.%s(c)\n},", o.op.OperationID, m.name)
			continue
		}
		args := []string{"c"}
		for seg := range strings.SplitSeq(o.path, "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				args = append(args, "p."+pathField(seg[1:len(seg)-1]))
			}
		}
		if m.params != nil {
			first, seen := firstParams[check(i)]
			if !seen {
				first, firstParams[check(i)] = m.params, m.params
			}
			if first.(*ast.Ident).Name == m.params.(*ast.Ident).Name {
				args = append(args, "p.params")
			} else {
				// Another operation's Params with the same fields.
				args = append(args, e.qualify(m.params, o.where())+"(p.params)")
			}
		}
		w.line("%q: func(c echo.Context, params any) error {\np := params.(*params%s)\nreturn si.%s(%s)\n},",
			o.op.OperationID, strings.TrimPrefix(check(i), "check"), m.name, strings.Join(args, ", "))
	}
	w.line("}\n}\n")
}

// destination is where a parameter's parsed value goes, as a pointer
// expression on p, and the Go type of that field: a path parameter's as the
// server interface's method takes it, a query or header parameter's as a
// field of the operation's Params struct.
func (e *emitter) destination(o opPlan, m *method, pp paramPlan) (string, ast.Expr) {
	if pp.p.In == openapi3.ParameterInPath {
		i := pathIndex(o.path, pp.p.Name)
		if i < 0 || i >= len(m.path) {
			e.b.fail(fmt.Errorf("%s: the server's %s has no argument for the path parameter %s", o.where(), m.name, pp.p.Name))
			return "", nil
		}
		return "&p." + pathField(pp.p.Name), m.path[i]
	}
	if m.params == nil {
		e.b.fail(fmt.Errorf("%s: the server's %s takes no Params for the %s parameter %s", o.where(), m.name, pp.p.In, pp.p.Name))
		return "", nil
	}
	def, _ := e.models.resolve(m.params)
	st, ok := def.(*ast.StructType)
	f, found := field{}, false
	if ok {
		f, found = fields(st)[pp.p.Name]
	}
	if !found {
		e.b.fail(fmt.Errorf("%s: the models' %s has no field for the %s parameter %s", o.where(), m.params, pp.p.In, pp.p.Name))
		return "", nil
	}
	return "&p.params." + f.name, f.typ
}

// deref is the variable a pointer expression points at: &x is x.
func deref(ptr string) string {
	if rest, ok := strings.CutPrefix(ptr, "&"); ok {
		return rest
	}
	return "*" + ptr
}

// pathIndex is the place of parameter name among the path's parameters.
func pathIndex(path, name string) int {
	i := 0
	for seg := range strings.SplitSeq(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if seg[1:len(seg)-1] == name {
				return i
			}
			i++
		}
	}
	return -1
}

// pathField is the field of the parameters struct that holds a path parameter.
func pathField(name string) string { return "path" + goName(name) }

// paramsStruct declares the struct a check function fills for the server
// interface's method m, whose path parameters are those of o.
func (e *emitter) paramsStruct(w *writer, name, check string, o opPlan, m *method) {
	w.line("// %s are the parameters %s parsed.", name, check)
	w.line("type %s struct {", name)
	i := 0
	for seg := range strings.SplitSeq(o.path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && i < len(m.path) {
			w.line("%s %s", pathField(seg[1:len(seg)-1]), e.qualify(m.path[i], o.where()))
			i++
		}
	}
	if m.params != nil {
		w.line("params %s", e.qualify(m.params, o.where()))
	}
	w.line("}\n")
}

// qualify writes a type of the models' or the server's file as the output
// package names it.
func (e *emitter) qualify(t ast.Expr, where string) string {
	switch t := t.(type) {
	case *ast.Ident:
		if _, ok := e.models.types[t.Name]; ok {
			e.imports["generated"] = e.modelsImport
			return "generated." + t.Name
		}
		if types.Universe.Lookup(t.Name) != nil {
			return t.Name
		}
	case *ast.StarExpr:
		return "*" + e.qualify(t.X, where)
	case *ast.ArrayType:
		if t.Len == nil {
			return "[]" + e.qualify(t.Elt, where)
		}
	case *ast.SelectorExpr:
		if pkg, ok := t.X.(*ast.Ident); ok {
			path := e.models.imports[pkg.Name]
			if path == "" && e.server != nil {
				path = e.server.imports[pkg.Name]
			}
			if path != "" {
				e.imports[pkg.Name] = path
				return pkg.Name + "." + t.Sel.Name
			}
		}
	}
	e.b.fail(fmt.Errorf("%s: the generator cannot name the type %T of a parameter", where, t))
	return "any"
}

// oneOf writes the check of a body that is one of several forms: the body is
// read as each, into the form's generated type, and the one it fits is what
// the check returns.
func (e *emitter) oneOf(w *writer, n *node, ret string) {
	exclusive := formsExclusive(n.forms)
	var names []string
	for _, f := range n.forms {
		names = append(names, goName(f.name))
	}
	// The forms are a package variable, made once: as composite literals in
	// the check, their lists of names were allocated on every request.
	forms := "formsOf" + strings.Join(names, "Or")
	w.line("return "+ret, fmt.Sprintf("reqcheck.OneOf(in.Body, vs, %t, %s...)", exclusive, forms))
	if e.formsWritten[forms] {
		return
	}
	e.formsWritten[forms] = true
	e.paramFns.line("// %s are the forms a body may take, each decoded into its generated type.", forms)
	e.paramFns.line("var %s = []reqcheck.Form{", forms)
	for i, f := range n.forms {
		typeName := goName(f.name)
		def, _ := e.models.resolve(&ast.Ident{Name: typeName})
		st, ok := def.(*ast.StructType)
		if !ok {
			e.b.fail(fmt.Errorf("%s: the models have no struct %s for the form %s", n.where, typeName, f.name))
			continue
		}
		e.decoder(typeName, f.value, st)
		only := ""
		if exclusive {
			var quoted []string
			for _, p := range onlyProperties(n.forms, i) {
				quoted = append(quoted, strconv.Quote(p))
			}
			if len(quoted) > 0 {
				only = "Only: []string{" + strings.Join(quoted, ", ") + "}, "
			}
		}
		e.paramFns.line("{Name: %q, %sDecode: func(d *reqcheck.Decoder) any {\nform := new(generated.%s)\ndecode%s(d, form)\nreturn form\n}},",
			f.name, only, typeName, typeName)
	}
	e.paramFns.line("}\n")
}

// formsExclusive tells whether no body can fit two of the forms: for each
// pair, one requires a property the other does not allow. The generated
// check may then stop at the first form that fits, so that a valid body is
// read once.
func formsExclusive(forms []oneOfForm) bool {
	excludes := func(a, b *node) bool {
		if !b.closed {
			return false
		}
		for _, r := range a.required {
			if !slices.ContainsFunc(b.properties, func(p property) bool { return p.name == r }) {
				return true
			}
		}
		return false
	}
	for i := range forms {
		for j := i + 1; j < len(forms); j++ {
			if a, b := forms[i].value, forms[j].value; !excludes(a, b) && !excludes(b, a) {
				return false
			}
		}
	}
	return true
}

// onlyProperties are the properties form i declares that every other form
// forbids: a body with one of them can only be meant as form i.
func onlyProperties(forms []oneOfForm, i int) []string {
	var only []string
	for _, p := range forms[i].value.properties {
		mine := true
		for j, other := range forms {
			if j != i && (!other.value.closed || slices.ContainsFunc(other.value.properties, func(q property) bool { return q.name == p.name })) {
				mine = false
			}
		}
		if mine {
			only = append(only, p.name)
		}
	}
	return only
}

// parameterFunction is the function that checks and parses a shared
// parameter into out, the same whichever operation uses it, written on
// first use.
func (e *emitter) parameterFunction(pp paramPlan, typ ast.Expr) string {
	if fn, ok := e.paramFnOf[pp.ref]; ok {
		return fn
	}
	fn := "checkParameter" + goName(pp.ref[strings.LastIndex(pp.ref, "/")+1:])
	e.paramFnOf[pp.ref] = fn
	e.paramFns.line("// %s checks the %s parameter %s (%s) and parses it into out.", fn, pp.p.In, pp.p.Name, pp.ref)
	e.paramFns.line("func %s(in *reqcheck.Input, vs *reqcheck.Violations, out *%s) {", fn, e.qualify(typ, pp.ref))
	e.parameter(&e.paramFns, pp, "out", typ)
	e.paramFns.line("}\n")
	return fn
}

// parameter writes the checks of one parameter, and its parsing into the
// field dst points at, of type typ.
func (e *emitter) parameter(w *writer, pp paramPlan, dst string, typ ast.Expr) {
	p, n := pp.p, pp.value
	if star, ok := typ.(*ast.StarExpr); ok {
		typ, dst = star.X, "reqcheck.Alloc("+dst+")"
	}
	def, _ := e.models.resolve(typ)
	report := func(msg string) string { return fmt.Sprintf("vs.Add(%q, %s)", p.Name, msg) }
	required := report(fmt.Sprintf("reqcheck.MsgParamRequired(%q, %q)", p.In, p.Name))
	switch p.In {
	case openapi3.ParameterInPath:
		var checks writer
		e.scalar(&checks, n, "v", report, dst, def)
		w.line("if v := in.Path.PathParam(%q); v == \"\" {\n%s\n} else {\n%s}", p.Name, required, checks.text())
	case openapi3.ParameterInQuery:
		e.single(w, fmt.Sprintf("vals := in.Query[%q]", p.Name), "vals", p, n, report, dst, def)
	case openapi3.ParameterInHeader:
		key := http.CanonicalHeaderKey(p.Name)
		if n.typ != openapi3.TypeArray {
			e.single(w, fmt.Sprintf("lines := in.Header[%q]", key), "lines", p, n, report, dst, def)
			return
		}
		if n.items == nil || n.items.typ != openapi3.TypeString {
			e.b.unsupported(n.where, "items", "a list-based header of other items than strings")
			return
		}
		// A list-based header (RFC 9110, 5.3): its field lines are one
		// list, split once (the server may have read it before).
		w.line("if items := in.Items(%q); len(items) > 0 {", key)
		e.checks(w, n, subject{value: "len(items)", report: report})
		var checks writer
		e.checks(&checks, n.items, subject{value: "item", text: "item", report: report})
		if checks.Len() > 0 {
			w.line("for _, item := range items {\n%s}", checks.text())
		}
		w.line("%s = items", deref(dst))
		if p.Required {
			w.line("} else {\n%s", required)
		}
		w.line("}")
	default:
		e.b.unsupported(n.where, "in", "parameters in "+p.In)
	}
}

// single writes the checks of a parameter that is given at most once.
func (e *emitter) single(w *writer, init, list string, p *openapi3.Parameter, n *node, report func(string) string, dst string, def ast.Expr) {
	w.line("if %s; len(%s) > 1 {\n%s", init, list, report(fmt.Sprintf("reqcheck.MsgRepeated(%q, %q, len(%s))", p.In, p.Name, list)))
	if p.Required {
		w.line("} else if len(%s) == 0 {\n%s", list, report(fmt.Sprintf("reqcheck.MsgParamRequired(%q, %q)", p.In, p.Name)))
	}
	var checks writer
	e.scalar(&checks, n, "v", report, dst, def)
	w.line("} else if len(%s) == 1 {\nv := %s[0]\n%s", list, list, checks.text())
	w.line("}")
}

// scalar writes the checks of a parameter's text v, and its parsing into
// the field dst points at, whose type is def.
func (e *emitter) scalar(w *writer, n *node, v string, report func(string) string, dst string, def ast.Expr) {
	switch n.typ {
	case openapi3.TypeString:
		if e.isUUID(def) && len(n.checks) == 1 && n.checks[0] == (formatCheck{name: "uuid"}) {
			// A GUID kept as one: checked and parsed in one pass.
			w.line("if id, ok := reqcheck.ParseGUID(%s); !ok {\n%s\n} else {\n%s = id\n}", v,
				report(fmt.Sprintf("reqcheck.MsgFormat(%s, %q)", v, "uuid")), deref(dst))
			return
		}
		e.checks(w, n, subject{value: v, text: v, report: report})
		e.assignString(w, def, v, dst, n.where)
	case openapi3.TypeInteger, openapi3.TypeNumber:
		parse, local, msg, set := "reqcheck.ParseInteger(%s, 64)", "n", "reqcheck.MsgNotInteger(%s)", "reqcheck.SetInt"
		if n.typ == openapi3.TypeNumber {
			parse, local, msg, set = "reqcheck.ParseNumber(%s)", "f", "reqcheck.MsgNotNumber(%s)", "reqcheck.SetFloat"
		}
		w.line("if %s, ok := %s; !ok {\n%s\n} else {", local, fmt.Sprintf(parse, v), report(fmt.Sprintf(msg, v)))
		e.checks(w, n, subject{value: local, text: v, report: report})
		if bits := intBits(def); n.typ == openapi3.TypeInteger && bits < 64 && !boundedWithin(n, bits) {
			// Parsed as 64 bits, for the spec's messages; the model's
			// field is narrower.
			w.line("if %s < -1<<%d || %s >= 1<<%d {\n%s\n}", local, bits-1, local, bits-1, report(fmt.Sprintf("reqcheck.MsgOutOfRange(%s)", v)))
		}
		w.line("%s(%s, %s)\n}", set, dst, local)
	case openapi3.TypeBoolean:
		w.line("if b, ok := reqcheck.ParseBoolean(%s); !ok {\n%s\n} else {\nreqcheck.SetBool(%s, b)\n}", v, report("reqcheck.MsgNotBoolean("+v+")"), dst)
	default:
		e.b.unsupported(n.where, "type", fmt.Sprintf("a parameter of type %q", n.typ))
	}
}

// boundedWithin tells whether n's minimum and maximum keep its values within
// an integer of bits.
func boundedWithin(n *node, bits int) bool {
	limit := float64(int64(1) << (bits - 1))
	for _, c := range n.checks {
		if b, ok := c.(bounds); ok && b.min != nil && b.max != nil && *b.min >= -limit && *b.max < limit {
			return true
		}
	}
	return false
}

// checks writes a value's checks: the guards (anyOf, enum) each alone, and
// the others together once the value passed every guard.
func (e *emitter) checks(w *writer, n *node, v subject) {
	var guards []guard
	var rest []check
	for _, c := range n.checks {
		if g, ok := c.(guard); ok {
			guards = append(guards, g)
		} else {
			rest = append(rest, c)
		}
	}
	if len(guards) == 0 || len(guards) == 1 && len(rest) == 0 {
		for _, c := range n.checks {
			c.emit(e, w, v)
		}
		return
	}
	w.line("switch {")
	for _, g := range guards {
		cond, report := g.violation(e, v)
		w.line("case %s:\n%s", cond, report)
	}
	if len(rest) > 0 {
		w.line("default:")
		for _, c := range rest {
			c.emit(e, w, v)
		}
	}
	w.line("}")
}

// value writes code that reads the current JSON value into the field ptr
// points at, of Go type t, checking it against n. name is the base of the
// locals' names: the property's, or "item".
func (e *emitter) value(w *writer, n *node, t ast.Expr, ptr, name string) {
	if star, ok := t.(*ast.StarExpr); ok {
		t, ptr = star.X, "reqcheck.Alloc("+ptr+")"
	}
	if n.nullable {
		w.line("if !d.IsNull() {")
		defer w.line("}")
	}
	def, named := e.models.resolve(t)
	report := func(msg string) string { return "d.Violate(" + msg + ")" }
	if n.typ == typeOneOf {
		e.b.unsupported(n.where, "oneOf", "oneOf below the request body; only a body may have several forms")
		return
	}
	if len(n.enum) > 0 && named != "" {
		e.enumList(named, n)
	}
	switch n.typ {
	case openapi3.TypeObject:
		if e.isRawJSON(def) {
			// x-go-type: json.RawMessage: kept as sent, for another check.
			w.line("d.RawObject(%s)", ptr)
			return
		}
		if mt, ok := def.(*ast.MapType); ok && n.values != nil {
			w.line("if d.Object() {\nentries := %s\nfor d.Next() {", ptr)
			if max := n.maxProperties(); max > 0 {
				// Past the bound nothing more is kept: the map is refused.
				w.line("if d.Entries() > %d {\nd.SkipEntry()\ncontinue\n}", max)
			}
			w.line("reqcheck.Entry(entries, string(d.Name()), func(slot *%s) {", e.qualify(mt.Value, n.where))
			e.value(w, n.values, mt.Value, "slot", "value")
			w.line("})\n}")
			e.checks(w, n, subject{value: "d.Count()", report: report})
			w.line("}")
			return
		}
		st, ok := def.(*ast.StructType)
		if !ok {
			e.b.fail(fmt.Errorf("%s: the model's type for this object is not a struct (a map needs additionalProperties with a schema)", n.where))
			return
		}
		if named != "" {
			w.line("decode%s(d, %s)", named, ptr)
			e.decoder(named, n, st)
			return
		}
		w.line("if o := %s; d.Object() {", ptr)
		e.objectBody(w, n, st)
		w.line("}")
	case openapi3.TypeArray:
		at, ok := def.(*ast.ArrayType)
		if !ok || at.Len != nil || n.items == nil {
			e.b.fail(fmt.Errorf("%s: the model's type for this array is not a slice, or the array has no items", n.where))
			return
		}
		w.line("if d.Array() {\nlist := %s\nfor d.Element() {\nitem := reqcheck.Grow(list)", ptr)
		e.value(w, n.items, at.Elt, "item", "item")
		w.line("}")
		e.checks(w, n, subject{value: "d.Count()", report: report})
		w.line("}")
	case openapi3.TypeString:
		v := local(name)
		w.line("if %s, ok := d.String(); ok {", v)
		if e.isUUID(def) && len(n.checks) == 1 && n.checks[0] == (formatCheck{name: "uuid"}) {
			// A GUID kept as one: checked and decoded in one pass.
			w.line("if id, ok := reqcheck.ParseGUID(%s); !ok {\n%s\n} else {\n%s = id\n}", v,
				report(fmt.Sprintf("reqcheck.MsgFormat(%s, %q)", v, "uuid")), deref(ptr))
			w.line("}")
			return
		}
		e.checks(w, n, subject{value: v, text: v, report: report})
		e.assignString(w, def, v, ptr, n.where)
		w.line("}")
	case openapi3.TypeInteger, openapi3.TypeNumber:
		v, read, set := local(name), "d.Number()", "reqcheck.SetFloat"
		if n.typ == openapi3.TypeInteger {
			read, set = fmt.Sprintf("d.Integer(%d)", intBits(def)), "reqcheck.SetInt"
		}
		text := "text"
		if len(n.checks) == 0 {
			text = "_"
		}
		w.line("if %s, %s, ok := %s; ok {", text, v, read)
		e.checks(w, n, subject{value: v, text: "text", report: report})
		w.line("%s(%s, %s)\n}", set, ptr, v)
	case openapi3.TypeBoolean:
		v := local(name)
		w.line("if %s, ok := d.Boolean(); ok {\nreqcheck.SetBool(%s, %s)\n}", v, ptr, v)
	}
}

// intBits is the size of the model's integer type.
func intBits(t ast.Expr) int {
	if id, ok := t.(*ast.Ident); ok {
		switch id.Name {
		case "int8":
			return 8
		case "int16":
			return 16
		case "int32":
			return 32
		}
	}
	return 64
}

// assignString stores a checked string in its field, parsing it when the
// model keeps it as a GUID or a time.
func (e *emitter) assignString(w *writer, def ast.Expr, v, ptr, where string) {
	sel, ok := def.(*ast.SelectorExpr)
	if !ok {
		w.line("reqcheck.SetString(%s, %s)", ptr, v)
		return
	}
	pkg, _ := sel.X.(*ast.Ident)
	path := ""
	if pkg != nil {
		path = e.models.imports[pkg.Name]
	}
	switch {
	case e.isUUID(def):
		w.line("if id, ok := reqcheck.ParseGUID(%s); ok {\n%s = id\n}", v, deref(ptr))
	case path == "time" && sel.Sel.Name == "Time":
		w.line("if t, ok := reqcheck.ParseDateTime(%s); ok {\n%s = t\n}", v, deref(ptr))
	default:
		e.b.fail(fmt.Errorf("%s: the model keeps this string as %s.%s, which the generator cannot fill", where, pkg, sel.Sel.Name))
	}
}

// isRawJSON tells whether the model keeps a value as encoding/json's
// RawMessage (the spec's x-go-type).
func (e *emitter) isRawJSON(def ast.Expr) bool {
	sel, ok := def.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, _ := sel.X.(*ast.Ident)
	return pkg != nil && sel.Sel.Name == "RawMessage" && e.models.imports[pkg.Name] == "encoding/json"
}

// isUUID tells whether the model's type def is a GUID (google/uuid's, or
// oapi-codegen's alias of it).
func (e *emitter) isUUID(def ast.Expr) bool {
	sel, ok := def.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, _ := sel.X.(*ast.Ident)
	if pkg == nil {
		return false
	}
	path := e.models.imports[pkg.Name]
	return sel.Sel.Name == "UUID" && (strings.HasSuffix(path, "/types") || path == "github.com/google/uuid")
}

// decoder queues the decode function of a model struct type on first use.
func (e *emitter) decoder(typeName string, n *node, st *ast.StructType) {
	if e.decoderOf[typeName] {
		return
	}
	e.decoderOf[typeName] = true
	e.queue = append(e.queue, decodeJob{typeName: typeName, value: n, st: st})
}

// writeDecoders writes the queued decode functions, and those they queue.
func (e *emitter) writeDecoders() {
	for len(e.queue) > 0 {
		job := e.queue[0]
		e.queue = e.queue[1:]
		w := &e.decoders
		w.line("// decode%s reads a %s, checking it against %s.", job.typeName, job.typeName, job.value.where)
		w.line("func decode%s(d *reqcheck.Decoder, o *generated.%s) {\nif !d.Object() {\nreturn\n}", job.typeName, job.typeName)
		e.objectBody(w, job.value, job.st)
		w.line("}\n")
		// Exported too: a document that comes from elsewhere than a request
		// (a state file, a seed entry) is checked by the same generated code.
		w.line("// Decode%s reads doc as a %s, checking it against %s: the value when doc breaks no rule, every violation in vs otherwise.", job.typeName, job.typeName, job.value.where)
		w.line("func Decode%s(doc []byte, vs *reqcheck.Violations) *generated.%s {\nreturn reqcheck.DecodeDocument(doc, vs, decode%s)\n}\n",
			job.typeName, job.typeName, job.typeName)
	}
}

// objectBody writes the loop over the properties of the object o points
// at, and the required checks after it.
func (e *emitter) objectBody(w *writer, n *node, st *ast.StructType) {
	fieldsByName := fields(st)
	if len(n.required) > 0 {
		w.line("var seen uint64")
	}
	w.line("for d.Next() {\nswitch string(d.Name()) {")
	for _, p := range n.properties {
		f, ok := fieldsByName[p.name]
		if !ok {
			e.b.fail(fmt.Errorf("%s: the model has no field for property %q", n.where, p.name))
			continue
		}
		w.line("case %q:", p.name)
		if i := slices.Index(n.required, p.name); i >= 0 {
			w.line("seen |= 1 << %d", i)
		}
		if p.value.readOnly {
			w.line("d.ReadOnly()")
			continue
		}
		e.value(w, p.value, f.typ, "&o."+f.name, p.name)
	}
	if n.closed {
		w.line("default:\nd.Unknown()")
	} else {
		w.line("default:\nd.Skip()")
	}
	w.line("}\n}")
	for i, r := range n.required {
		w.line("if seen&(1<<%d) == 0 {\nd.Missing(%q)\n}", i, r)
	}
}

// pattern is the variable holding a compiled pattern, named for the first
// value it checks.
func (e *emitter) pattern(c pattern) string {
	if name, ok := e.patterns[c.expr]; ok {
		return name
	}
	name := lastWord(c.where) + "Pattern"
	for i := 2; e.usedNames[name]; i++ {
		name = lastWord(c.where) + "Pattern" + strconv.Itoa(i)
	}
	e.usedNames[name] = true
	e.patterns[c.expr] = name
	e.imports["regexp"] = "regexp"
	e.patternVars.line("var %s = regexp.MustCompile(%q)\n", name, c.expr)
	return name
}

// enumList records that the model type typeName is the enum n, whose values
// the generated code lists.
func (e *emitter) enumList(typeName string, n *node) {
	if _, ok := e.enums[typeName]; ok {
		return
	}
	l := enumList{typeName: typeName, schema: n.where}
	for _, v := range n.enum {
		switch v := v.(type) {
		case string:
			l.values = append(l.values, strconv.Quote(v))
		case float64:
			l.values = append(l.values, num(v))
		}
	}
	e.enums[typeName] = l
}

// sortedEnums are the enum lists by type name.
func (e *emitter) sortedEnums() []enumList {
	out := make([]enumList, 0, len(e.enums))
	for _, l := range e.enums {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].typeName < out[j].typeName })
	return out
}

// reserved are the names a property's local must not take: the generated
// code's own locals and packages.
var reserved = []string{"d", "o", "ok", "in", "vs", "body", "seen", "item", "list", "text", "length", "id", "t",
	"reqcheck", "generated", "regexp", "strings"}

// local is a Go local named for a property: "machineName" for machineName,
// "odataType" for @odata.type.
func local(name string) string {
	g := goName(name)
	if g == "" {
		return "value"
	}
	r := []rune(g)
	for i := 0; i < len(r) && unicode.IsUpper(r[i]) && (i == 0 || i+1 == len(r) || unicode.IsUpper(r[i+1])); i++ {
		r[i] = unicode.ToLower(r[i])
	}
	l := string(r)
	if !token.IsIdentifier(l) || slices.Contains(reserved, l) || types.Universe.Lookup(l) != nil {
		l += "Value"
	}
	return l
}

// lastWord is the last name in a schema's location, as a Go local: "asset"
// for paths./docs/assets/{asset}.get.parameters.path.asset.schema.
func lastWord(where string) string {
	words := strings.FieldsFunc(where, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i := len(words) - 1; i >= 0; i-- {
		switch words[i] {
		case "schema", "items", "anyOf", "properties":
			continue
		}
		if _, err := strconv.Atoi(words[i]); err == nil {
			continue
		}
		return local(words[i])
	}
	return "value"
}
