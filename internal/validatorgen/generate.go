package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// schemaKeywords are the keywords a checked schema may use: those the
// generator implements, and annotations that change nothing to validation.
var schemaKeywords = map[string]bool{
	"type": true, "format": true, "enum": true, "required": true, "properties": true,
	"additionalProperties": true, "minLength": true, "maxLength": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"items": true, "minItems": true, "maxItems": true, "anyOf": true, "nullable": true,
	// Annotations.
	"description": true, "title": true, "example": true, "default": true, "deprecated": true,
	"externalDocs": true,
	// oapi-codegen's hints about the Go code, which the models file already reflects.
	"x-go-type": true, "x-go-name": true, "x-go-type-skip-optional-pointer": true,
	"x-oapi-codegen-extra-tags": true, "x-order": true,
}

// branchKeywords are what a branch of anyOf may use: string checks only.
var branchKeywords = map[string]bool{
	"type": true, "format": true, "enum": true, "minLength": true, "maxLength": true,
	"pattern": true, "description": true, "title": true,
}

// parameterKeywords are the fields of a parameter object the generator reads
// or that change nothing to validation.
var parameterKeywords = map[string]bool{
	"name": true, "in": true, "required": true, "schema": true, "description": true,
	"deprecated": true, "example": true, "examples": true, "style": true, "explode": true,
}

// formatChecks are the string formats implemented: the reqcheck function that
// tells a valid value.
var formatChecks = map[string]string{
	"uuid":      "reqcheck.IsGUID",
	"ipv4":      "reqcheck.IsIPv4",
	"ipv6":      "reqcheck.IsIPv6",
	"date-time": "reqcheck.IsDateTime",
}

// numberFormats are the formats of integers and numbers, which only choose
// the Go type.
var numberFormats = map[string]bool{"": true, "int32": true, "int64": true, "float": true, "double": true}

type generator struct {
	doc          *openapi3.T
	models       *models
	modelsImport string
	pkg          string
	specName     string

	imports  map[string]string // name -> path, of what the output uses
	decoders bytes.Buffer      // the models' decode functions
	helpers  bytes.Buffer      // the small functions and variables they use
	decodeFn map[string]string // model type name -> its decode function
	paramFn  map[string]string // component parameter -> its check function
	paramFns bytes.Buffer      // those functions
	queue    []decodeJob
	patterns map[string]string // pattern -> the variable holding it compiled
	anyOfs   map[string]string // branch expression -> its function
	problems errs
	nvar     int // numbers the locals of the function being written
	nglobal  int // numbers package-level names (patterns, anyOf branches)
}

// decodeJob is a decode function still to write: one per model struct type.
type decodeJob struct {
	fn, typeName string
	schema       *openapi3.Schema
	where        string
	st           *ast.StructType
}

func newGenerator(doc *openapi3.T, m *models, modelsImport, pkg, specName string) *generator {
	return &generator{doc: doc, models: m, modelsImport: modelsImport, pkg: pkg, specName: specName,
		imports:  map[string]string{"reqcheck": "github.com/connector-group/members-api/internal/reqcheck"},
		decodeFn: map[string]string{}, paramFn: map[string]string{}, patterns: map[string]string{}, anyOfs: map[string]string{}}
}

// operation is one operation of the document, in a stable order.
type operation struct {
	path, method string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

func (g *generator) operations() []operation {
	var ops []operation
	for _, path := range g.doc.Paths.InMatchingOrder() {
		item := g.doc.Paths.Value(path)
		for method, op := range item.Operations() {
			ops = append(ops, operation{path: path, method: method, item: item, op: op})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].method < ops[j].method
	})
	return ops
}

func (g *generator) generate() ([]byte, error) {
	var body bytes.Buffer
	ops := g.operations()

	// Each operation's checks; operations whose checks are the same code
	// (a HEAD and its GET) share one function.
	names := make([]string, len(ops))
	byCode := map[string]int{} // a function's code -> the first operation with it
	var codes []string
	var checks bytes.Buffer
	for i, o := range ops {
		var code bytes.Buffer
		g.checkBody(&code, o)
		first, seen := byCode[code.String()]
		if seen {
			names[i] = names[first]
			continue
		}
		byCode[code.String()] = i
		codes = append(codes, code.String())
		names[i] = checkName(o.op)
	}
	for _, code := range codes {
		i := byCode[code]
		var users []string
		for j, o := range ops {
			if names[j] == names[i] {
				users = append(users, fmt.Sprintf("%s (%s %s)", o.op.OperationID, o.method, o.path))
			}
		}
		fmt.Fprintf(&checks, "// %s checks a request for %s.\n", names[i], strings.Join(users, " and "))
		fmt.Fprintf(&checks, "func %s(in *reqcheck.Input, vs *reqcheck.Violations) any {\n%s}\n\n", names[i], code)
	}
	body.WriteString("// Operations describes every operation of the spec, with its checks.\n")
	body.WriteString("func Operations() []reqcheck.Operation {\n\treturn []reqcheck.Operation{\n")
	for i, o := range ops {
		g.operationEntry(&body, o, names[i])
	}
	body.WriteString("\t}\n}\n\n")
	body.Write(checks.Bytes())
	g.constants(&body, ops)
	g.enums(&body)
	for len(g.queue) > 0 {
		job := g.queue[0]
		g.queue = g.queue[1:]
		var fn bytes.Buffer
		g.decodeFunction(&fn, job)
		g.decoders.Write(fn.Bytes())
	}
	if err := g.problems.join(); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	fmt.Fprintf(&out, "// Package %s checks requests against %s: for each operation, its\n", g.pkg, g.specName)
	out.WriteString("// parameters, headers and body, every violation with its target.\n//\n")
	fmt.Fprintf(&out, "// Code generated by internal/validatorgen from %s. DO NOT EDIT.\n", g.specName)
	fmt.Fprintf(&out, "package %s\n\nimport (\n", g.pkg)
	imports := make([]string, 0, len(g.imports))
	for name := range g.imports {
		imports = append(imports, name)
	}
	// The standard library first, then the module's own packages.
	sort.Slice(imports, func(i, j int) bool {
		si, sj := !strings.Contains(g.imports[imports[i]], "."), !strings.Contains(g.imports[imports[j]], ".")
		if si != sj {
			return si
		}
		return g.imports[imports[i]] < g.imports[imports[j]]
	})
	for i, name := range imports {
		path := g.imports[name]
		if i > 0 && strings.Contains(path, ".") && !strings.Contains(g.imports[imports[i-1]], ".") {
			out.WriteString("\n")
		}
		if path[strings.LastIndex(path, "/")+1:] == name {
			fmt.Fprintf(&out, "\t%q\n", path)
		} else {
			fmt.Fprintf(&out, "\t%s %q\n", name, path)
		}
	}
	out.WriteString(")\n\n")
	out.Write(body.Bytes())
	out.Write(g.paramFns.Bytes())
	out.Write(g.decoders.Bytes())
	out.Write(g.helpers.Bytes())
	return out.Bytes(), nil
}

// fresh names a local of the function being written; numbering starts
// again in each function, so that two operations with the same checks get
// the same code (and one function).
func (g *generator) fresh(prefix string) string {
	g.nvar++
	return prefix + strconv.Itoa(g.nvar)
}

// freshGlobal names a package-level function or variable.
func (g *generator) freshGlobal(prefix string) string {
	g.nglobal++
	return prefix + strconv.Itoa(g.nglobal)
}

// keywords reports each keyword of s not in allowed, and whether there was none.
func (g *generator) keywords(s *openapi3.Schema, where string, allowed map[string]bool) bool {
	raw, err := s.MarshalYAML()
	if err != nil {
		g.problems.add(fmt.Errorf("%s: %w", where, err))
		return false
	}
	m, _ := raw.(map[string]any)
	var bad []string
	for k := range m {
		if !allowed[k] {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	for _, k := range bad {
		g.problems.add(&unsupportedError{where: where, keyword: k})
	}
	return len(bad) == 0
}

func schemaWhere(ref *openapi3.SchemaRef, where string) string {
	if ref.Ref != "" {
		return ref.Ref
	}
	return where
}

func opWhere(o operation) string {
	return "paths." + o.path + "." + strings.ToLower(o.method)
}

// secured tells whether the operation requires authentication: its own
// security, else the document's, unless a requirement is empty.
func (g *generator) secured(op *openapi3.Operation) bool {
	security := g.doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	if len(security) == 0 {
		return false
	}
	for _, req := range security {
		if len(req) == 0 {
			return false
		}
	}
	return true
}

func checkName(op *openapi3.Operation) string { return "check" + goName(op.OperationID) }

// jsonMediaTypes are the body's media types, all of which must be JSON.
func (g *generator) jsonMediaTypes(o operation) []string {
	rb := o.op.RequestBody.Value
	var types []string
	for mt := range rb.Content {
		if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
			g.problems.add(&unsupportedError{where: opWhere(o) + ".requestBody", keyword: "content",
				detail: "a request body of media type " + mt + "; only JSON is implemented"})
		}
		types = append(types, mt)
	}
	sort.Strings(types)
	return types
}

func (g *generator) operationEntry(w *bytes.Buffer, o operation, check string) {
	fmt.Fprintf(w, "\t\t{ID: %q, Method: %q, Path: %q, Tags: %#v, Secured: %t, Check: %s",
		o.op.OperationID, o.method, o.path, o.op.Tags, g.secured(o.op), check)
	if o.op.RequestBody != nil && o.op.RequestBody.Value != nil {
		fmt.Fprintf(w, ", BodyRequired: %t, BodyMediaTypes: %#v", o.op.RequestBody.Value.Required, g.jsonMediaTypes(o))
	}
	w.WriteString("},\n")
}

// parameters are the operation's parameters with the path item's, the
// operation's winning (OpenAPI 3.0, 4.7.8), in the order the spec lists them.
func parameters(o operation) []*openapi3.ParameterRef {
	var out []*openapi3.ParameterRef
	for _, ref := range o.item.Parameters {
		if ref.Value != nil && o.op.Parameters.GetByInAndName(ref.Value.In, ref.Value.Name) == nil {
			out = append(out, ref)
		}
	}
	for _, ref := range o.op.Parameters {
		if ref.Value != nil {
			out = append(out, ref)
		}
	}
	return out
}

// checkBody writes the statements of an operation's check function.
func (g *generator) checkBody(w *bytes.Buffer, o operation) {
	g.nvar = 0
	var queryNames []string
	for _, ref := range parameters(o) {
		if ref.Ref != "" {
			// A shared parameter is checked by one function, whichever operation uses it.
			fmt.Fprintf(w, "\t%s(in, vs)\n", g.parameterFunction(ref))
		} else {
			g.parameter(w, opWhere(o)+".parameters", ref.Value)
		}
		if ref.Value.In == openapi3.ParameterInQuery {
			queryNames = append(queryNames, ref.Value.Name)
		}
	}
	fmt.Fprintf(w, "\treqcheck.UnknownOptions(in.Query, vs")
	for _, n := range queryNames {
		fmt.Fprintf(w, ", %q", n)
	}
	w.WriteString(")\n")
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		w.WriteString("\treturn nil\n")
		return
	}
	rb := o.op.RequestBody.Value
	g.jsonMediaTypes(o)
	var schema *openapi3.SchemaRef
	for _, mt := range rb.Content {
		if mt.Schema != nil {
			schema = mt.Schema
			break
		}
	}
	bodyType := goName(o.op.OperationID) + "JSONRequestBody"
	if _, ok := g.models.types[bodyType]; !ok || schema == nil {
		g.problems.add(fmt.Errorf("%s: the models have no %s for the request body", opWhere(o), bodyType))
		w.WriteString("\treturn nil\n")
		return
	}
	g.imports["generated"] = g.modelsImport
	w.WriteString("\tif len(in.Body) == 0 {\n")
	if rb.Required {
		w.WriteString("\t\tvs.Add(\"\", reqcheck.MsgBodyRequired)\n")
	}
	w.WriteString("\t\treturn nil\n\t}\n")
	fmt.Fprintf(w, "\tbody := new(generated.%s)\n", bodyType)
	w.WriteString("\td := reqcheck.NewDecoder(in.Body, vs)\n")
	g.value(w, schema, &ast.Ident{Name: bodyType}, "body", opWhere(o)+".requestBody")
	w.WriteString("\tif !d.Finish() || vs.Len() > 0 {\n\t\treturn nil\n\t}\n\treturn body\n")
}

// parameterFunction is the function that checks a shared (component)
// parameter, written on first use.
func (g *generator) parameterFunction(ref *openapi3.ParameterRef) string {
	if fn, ok := g.paramFn[ref.Ref]; ok {
		return fn
	}
	fn := "checkParameter" + goName(ref.Ref[strings.LastIndex(ref.Ref, "/")+1:])
	g.paramFn[ref.Ref] = fn
	saved := g.nvar // a function of its own, written in the middle of another's
	defer func() { g.nvar = saved }()
	g.nvar = 0
	var w bytes.Buffer
	fmt.Fprintf(&w, "// %s checks the %s parameter %s (%s).\n", fn, ref.Value.In, ref.Value.Name, ref.Ref)
	fmt.Fprintf(&w, "func %s(in *reqcheck.Input, vs *reqcheck.Violations) {\n", fn)
	g.parameter(&w, ref.Ref, ref.Value)
	w.WriteString("}\n\n")
	g.paramFns.Write(w.Bytes())
	return fn
}

// parameter writes the checks of one parameter.
func (g *generator) parameter(w *bytes.Buffer, where string, p *openapi3.Parameter) {
	if !strings.HasPrefix(where, "#/") {
		where += "." + p.In + "." + p.Name
	}
	raw, _ := p.MarshalJSON()
	var bad []string
	for _, k := range jsonKeys(raw) {
		if !parameterKeywords[k] {
			bad = append(bad, k)
		}
	}
	for _, k := range bad {
		g.problems.add(&unsupportedError{where: where, keyword: k})
	}
	if p.Schema == nil || p.Schema.Value == nil {
		g.problems.add(&unsupportedError{where: where, keyword: "content", detail: "a parameter needs a schema"})
		return
	}
	s := p.Schema.Value
	swhere := schemaWhere(p.Schema, where+".schema")
	if !g.keywords(s, swhere, schemaKeywords) {
		return
	}
	report := func(msg string) string { return fmt.Sprintf("vs.Add(%q, %s)", p.Name, msg) }
	switch p.In {
	case openapi3.ParameterInPath:
		fmt.Fprintf(w, "\tif v := in.PathParam(%q); v == \"\" {\n\t\t%s\n\t} else {\n", p.Name,
			report(fmt.Sprintf("reqcheck.MsgParamRequired(%q, %q)", "path", p.Name)))
		g.scalarParam(w, s, "v", report, swhere)
		w.WriteString("\t}\n")
	case openapi3.ParameterInQuery:
		fmt.Fprintf(w, "\tif vals := in.Query[%q]; len(vals) > 1 {\n\t\t%s\n", p.Name,
			report(fmt.Sprintf("reqcheck.MsgRepeated(%q, %q, len(vals))", "query", p.Name)))
		if p.Required {
			fmt.Fprintf(w, "\t} else if len(vals) == 0 {\n\t\t%s\n", report(fmt.Sprintf("reqcheck.MsgParamRequired(%q, %q)", "query", p.Name)))
		}
		w.WriteString("\t} else if len(vals) == 1 {\n\t\tv := vals[0]\n")
		g.scalarParam(w, s, "v", report, swhere)
		w.WriteString("\t}\n")
	case openapi3.ParameterInHeader:
		key := http.CanonicalHeaderKey(p.Name)
		if s.Type != nil && s.Type.Is(openapi3.TypeArray) {
			// A list-based header (RFC 9110, 5.3): several field lines are one
			// list. They are combined for the generated binder, which takes one.
			fmt.Fprintf(w, "\tif lines := in.Header[%q]; len(lines) > 0 {\n", key)
			fmt.Fprintf(w, "\t\tv := reqcheck.JoinFieldLines(lines)\n\t\tin.Header[%q] = []string{v}\n", key)
			fmt.Fprintf(w, "\t\titems := reqcheck.SplitList(v)\n")
			g.itemCounts(w, s, "len(items)", report)
			if s.Items == nil || s.Items.Value == nil {
				g.problems.add(&unsupportedError{where: swhere, keyword: "items", detail: "an array needs items"})
			} else if iw := schemaWhere(s.Items, swhere+".items"); g.keywords(s.Items.Value, iw, schemaKeywords) {
				g.imports["strings"] = "strings"
				w.WriteString("\t\tfor _, item := range items {\n\t\t\titem = strings.TrimSpace(item)\n")
				g.scalarParam(w, s.Items.Value, "item", report, iw)
				w.WriteString("\t\t}\n")
			}
		} else {
			fmt.Fprintf(w, "\tif lines := in.Header[%q]; len(lines) > 1 {\n\t\t%s\n", key,
				report(fmt.Sprintf("reqcheck.MsgRepeated(%q, %q, len(lines))", "header", p.Name)))
			if p.Required {
				fmt.Fprintf(w, "\t} else if len(lines) == 0 {\n\t\t%s\n", report(fmt.Sprintf("reqcheck.MsgParamRequired(%q, %q)", "header", p.Name)))
			}
			w.WriteString("\t} else if len(lines) == 1 {\n\t\tv := lines[0]\n")
			g.scalarParam(w, s, "v", report, swhere)
		}
		w.WriteString("\t}\n")
	default:
		g.problems.add(&unsupportedError{where: where, keyword: "in", detail: "parameters in " + p.In})
	}
}

// jsonKeys lists the keys of a JSON object.
func jsonKeys(raw []byte) []string {
	var keys []string
	depth := 0
	inString, escaped := false, false
	start := -1
	for i, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 1 && start >= 0 {
					rest := strings.TrimLeft(string(raw[i+1:]), " \t\r\n")
					if strings.HasPrefix(rest, ":") {
						keys = append(keys, string(raw[start+1:i]))
					}
				}
				start = -1
			}
		case c == '"':
			inString, start = true, i
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return keys
}

// scalarParam checks a parameter's text v against s.
func (g *generator) scalarParam(w *bytes.Buffer, s *openapi3.Schema, v string, report func(string) string, where string) {
	switch typeOf(s) {
	case openapi3.TypeString:
		g.stringChecks(w, s, v, report, where)
	case openapi3.TypeInteger:
		n := g.fresh("n")
		fmt.Fprintf(w, "\tif %s, ok := reqcheck.ParseInteger(%s, 64); !ok {\n\t\t%s\n\t} else {\n", n, v, report("reqcheck.MsgNotInteger("+v+")"))
		g.bounds(w, s, n, v, report)
		fmt.Fprintf(w, "\t\t_ = %s\n\t}\n", n)
	case openapi3.TypeNumber:
		n := g.fresh("f")
		fmt.Fprintf(w, "\tif %s, ok := reqcheck.ParseNumber(%s); !ok {\n\t\t%s\n\t} else {\n", n, v, report("reqcheck.MsgNotNumber("+v+")"))
		g.bounds(w, s, n, v, report)
		fmt.Fprintf(w, "\t\t_ = %s\n\t}\n", n)
	case openapi3.TypeBoolean:
		fmt.Fprintf(w, "\tif _, ok := reqcheck.ParseBoolean(%s); !ok {\n\t\t%s\n\t}\n", v, report("reqcheck.MsgNotBoolean("+v+")"))
	default:
		g.problems.add(&unsupportedError{where: where, keyword: "type", detail: fmt.Sprintf("a parameter of type %q", typeOf(s))})
	}
}

// typeOf is the schema's one type, or "" when it has none or several.
func typeOf(s *openapi3.Schema) string {
	if s.Type == nil || len(s.Type.Slice()) != 1 {
		return ""
	}
	return s.Type.Slice()[0]
}

// bounds writes minimum and maximum checks of number n, whose text is text.
func (g *generator) bounds(w *bytes.Buffer, s *openapi3.Schema, n, text string, report func(string) string) {
	if s.Min != nil {
		excl := s.ExclusiveMin.Bool != nil && *s.ExclusiveMin.Bool
		op := "<"
		if excl {
			op = "<="
		}
		fmt.Fprintf(w, "\tif %s %s %v {\n\t\t%s\n\t}\n", n, op, *s.Min, report(fmt.Sprintf("reqcheck.MsgMinimum(%s, %q, %t)", text, num(*s.Min), excl)))
	}
	if s.Max != nil {
		excl := s.ExclusiveMax.Bool != nil && *s.ExclusiveMax.Bool
		op := ">"
		if excl {
			op = ">="
		}
		fmt.Fprintf(w, "\tif %s %s %v {\n\t\t%s\n\t}\n", n, op, *s.Max, report(fmt.Sprintf("reqcheck.MsgMaximum(%s, %q, %t)", text, num(*s.Max), excl)))
	}
	if s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil {
		g.problems.add(&unsupportedError{where: "a schema", keyword: "exclusiveMinimum", detail: "the OpenAPI 3.1 number form"})
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// itemCounts writes minItems and maxItems checks of an array of n items.
func (g *generator) itemCounts(w *bytes.Buffer, s *openapi3.Schema, n string, report func(string) string) {
	if s.MinItems > 0 {
		fmt.Fprintf(w, "\tif %s < %d {\n\t\t%s\n\t}\n", n, s.MinItems, report(fmt.Sprintf("reqcheck.MsgMinItems(%d)", s.MinItems)))
	}
	if s.MaxItems != nil {
		fmt.Fprintf(w, "\tif %s > %d {\n\t\t%s\n\t}\n", n, *s.MaxItems, report(fmt.Sprintf("reqcheck.MsgMaxItems(%d)", *s.MaxItems)))
	}
}

// stringChecks writes the checks of string v: anyOf, then enum, each alone
// (a value that is none of the alternatives has nothing more to say), then
// length, pattern and format together.
func (g *generator) stringChecks(w *bytes.Buffer, s *openapi3.Schema, v string, report func(string) string, where string) {
	if s.Format != "" && formatChecks[s.Format] == "" {
		g.problems.add(&unsupportedError{where: where, keyword: "format", detail: "format " + strconv.Quote(s.Format)})
	}
	w.WriteString("\tswitch {\n")
	if len(s.AnyOf) > 0 {
		var exprs, names []string
		for i, b := range s.AnyOf {
			bw := schemaWhere(b, fmt.Sprintf("%s.anyOf[%d]", where, i))
			if b.Value == nil || !g.keywords(b.Value, bw, branchKeywords) {
				continue
			}
			if t := typeOf(b.Value); t != "" && t != openapi3.TypeString {
				g.problems.add(&unsupportedError{where: bw, keyword: "type", detail: "anyOf branches of type " + t})
				continue
			}
			exprs = append(exprs, g.anyOfBranch(b.Value, bw)+"("+v+")")
			switch {
			case b.Value.Format != "":
				names = append(names, b.Value.Format)
			default:
				names = append(names, "string")
			}
		}
		fmt.Fprintf(w, "\tcase !(%s):\n\t\t%s\n", strings.Join(exprs, " || "),
			report(fmt.Sprintf("reqcheck.MsgAlternatives(%s, %q)", v, strings.Join(names, " or "))))
	}
	if len(s.Enum) > 0 {
		values := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			str, ok := e.(string)
			if !ok {
				g.problems.add(&unsupportedError{where: where, keyword: "enum", detail: "enum values that are not strings"})
				continue
			}
			values = append(values, str)
		}
		conds := make([]string, len(values))
		for i, val := range values {
			conds[i] = fmt.Sprintf("%s != %q", v, val)
		}
		fmt.Fprintf(w, "\tcase %s:\n\t\t%s\n", strings.Join(conds, " && "),
			report(fmt.Sprintf("reqcheck.MsgEnum(%s, %q)", v, strings.Join(values, ", "))))
	}
	w.WriteString("\tdefault:\n")
	if s.MinLength > 0 || s.MaxLength != nil {
		n := g.fresh("length")
		fmt.Fprintf(w, "\t\t%s := reqcheck.Length(%s)\n", n, v)
		if s.MinLength > 0 {
			fmt.Fprintf(w, "\t\tif %s < %d {\n\t\t\t%s\n\t\t}\n", n, s.MinLength, report(fmt.Sprintf("reqcheck.MsgMinLength(%d)", s.MinLength)))
		}
		if s.MaxLength != nil {
			fmt.Fprintf(w, "\t\tif %s > %d {\n\t\t\t%s\n\t\t}\n", n, *s.MaxLength, report(fmt.Sprintf("reqcheck.MsgMaxLength(%d)", *s.MaxLength)))
		}
	}
	if s.Pattern != "" {
		fmt.Fprintf(w, "\t\tif !%s.MatchString(%s) {\n\t\t\t%s\n\t\t}\n", g.pattern(s.Pattern, where), v,
			report(fmt.Sprintf("reqcheck.MsgPattern(%s, %q)", v, s.Pattern)))
	}
	if check := formatChecks[s.Format]; check != "" {
		fmt.Fprintf(w, "\t\tif !%s(%s) {\n\t\t\t%s\n\t\t}\n", check, v, report(fmt.Sprintf("reqcheck.MsgFormat(%s, %q)", v, s.Format)))
	}
	w.WriteString("\t}\n")
}

// anyOfBranch is a function telling whether a string passes one branch.
func (g *generator) anyOfBranch(s *openapi3.Schema, where string) string {
	var conds []string
	if s.Format != "" {
		check := formatChecks[s.Format]
		if check == "" {
			g.problems.add(&unsupportedError{where: where, keyword: "format", detail: "format " + strconv.Quote(s.Format)})
			check = "reqcheck.IsGUID"
		}
		conds = append(conds, check+"(s)")
	}
	if len(s.Enum) > 0 {
		var alts []string
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				alts = append(alts, fmt.Sprintf("s == %q", str))
			}
		}
		conds = append(conds, "("+strings.Join(alts, " || ")+")")
	}
	if s.MinLength > 0 {
		conds = append(conds, fmt.Sprintf("reqcheck.Length(s) >= %d", s.MinLength))
	}
	if s.MaxLength != nil {
		conds = append(conds, fmt.Sprintf("reqcheck.Length(s) <= %d", *s.MaxLength))
	}
	if s.Pattern != "" {
		conds = append(conds, g.pattern(s.Pattern, where)+".MatchString(s)")
	}
	if len(conds) == 0 {
		conds = []string{"true"}
	}
	expr := strings.Join(conds, " && ")
	if fn, ok := g.anyOfs[expr]; ok {
		return fn
	}
	fn := g.freshGlobal("isBranch")
	g.anyOfs[expr] = fn
	fmt.Fprintf(&g.helpers, "// %s tells whether s passes %s.\nfunc %s(s string) bool { return %s }\n\n", fn, where, fn, expr)
	return fn
}

// pattern is the variable holding the compiled pattern. Go's regexp
// (RE2) runs in time linear in its input.
func (g *generator) pattern(p, where string) string {
	if name, ok := g.patterns[p]; ok {
		return name
	}
	if _, err := regexp.Compile(p); err != nil {
		g.problems.add(&unsupportedError{where: where, keyword: "pattern", detail: fmt.Sprintf("%q is not an RE2 pattern: %v", p, err)})
	}
	name := g.freshGlobal("pattern")
	g.patterns[p] = name
	g.imports["regexp"] = "regexp"
	fmt.Fprintf(&g.helpers, "var %s = regexp.MustCompile(%q)\n\n", name, p)
	return name
}

// value writes code that reads the current JSON value into *ptr, a field of
// Go type t, checking it against ref.
func (g *generator) value(w *bytes.Buffer, ref *openapi3.SchemaRef, t ast.Expr, ptr, where string) {
	where = schemaWhere(ref, where)
	s := ref.Value
	if s == nil || !g.keywords(s, where, schemaKeywords) {
		return
	}
	if star, ok := t.(*ast.StarExpr); ok {
		p := g.fresh("p")
		if s.Nullable {
			w.WriteString("\tif !d.IsNull() {\n")
		} else {
			w.WriteString("\t{\n")
		}
		fmt.Fprintf(w, "\t%s := reqcheck.Alloc(%s)\n", p, ptr)
		g.valueOf(w, s, star.X, p, where)
		w.WriteString("\t}\n")
		return
	}
	if s.Nullable {
		w.WriteString("\tif !d.IsNull() {\n")
		g.valueOf(w, s, t, ptr, where)
		w.WriteString("\t}\n")
		return
	}
	g.valueOf(w, s, t, ptr, where)
}

// valueOf is value for a non-pointer t.
func (g *generator) valueOf(w *bytes.Buffer, s *openapi3.Schema, t ast.Expr, ptr, where string) {
	def, named := g.models.resolve(t)
	switch typeOf(s) {
	case openapi3.TypeObject:
		st, ok := def.(*ast.StructType)
		if !ok {
			g.problems.add(fmt.Errorf("%s: the model's type for this object is not a struct", where))
			return
		}
		if named != "" {
			fmt.Fprintf(w, "\t%s(d, %s)\n", g.decoder(named, st, s, where), ptr)
			return
		}
		o := g.fresh("o")
		fmt.Fprintf(w, "\tif %s := %s; d.Object() {\n", o, ptr)
		g.objectBody(w, s, st, o, where)
		w.WriteString("\t}\n")
	case openapi3.TypeArray:
		at, ok := def.(*ast.ArrayType)
		if !ok || at.Len != nil || s.Items == nil {
			g.problems.add(fmt.Errorf("%s: the model's type for this array is not a slice, or the array has no items", where))
			return
		}
		e := g.fresh("e")
		fmt.Fprintf(w, "\tif d.Array() {\n\tfor d.Element() {\n\t%s := reqcheck.Grow(%s)\n", e, ptr)
		g.value(w, s.Items, at.Elt, e, where+".items")
		w.WriteString("\t}\n")
		g.itemCounts(w, s, "d.Count()", func(msg string) string { return "d.Violate(" + msg + ")" })
		w.WriteString("\t}\n")
	case openapi3.TypeString:
		v := g.fresh("s")
		fmt.Fprintf(w, "\tif %s, ok := d.String(); ok {\n", v)
		g.stringChecks(w, s, v, func(msg string) string { return "d.Violate(" + msg + ")" }, where)
		g.assignString(w, s, def, v, ptr, where)
		w.WriteString("\t}\n")
	case openapi3.TypeInteger:
		bits := 64
		if id, ok := def.(*ast.Ident); ok {
			switch id.Name {
			case "int8":
				bits = 8
			case "int16":
				bits = 16
			case "int32":
				bits = 32
			}
		}
		if !numberFormats[s.Format] {
			g.problems.add(&unsupportedError{where: where, keyword: "format", detail: "format " + strconv.Quote(s.Format)})
		}
		text, n := g.fresh("text"), g.fresh("n")
		fmt.Fprintf(w, "\tif %s, %s, ok := d.Integer(%d); ok {\n", text, n, bits)
		if len(s.Enum) > 0 {
			var conds, values []string
			for _, e := range s.Enum {
				f, ok := e.(float64)
				if !ok || f != math.Trunc(f) {
					g.problems.add(&unsupportedError{where: where, keyword: "enum", detail: "an integer enum with a value that is no integer"})
					continue
				}
				conds = append(conds, fmt.Sprintf("%s != %s", n, num(f)))
				values = append(values, num(f))
			}
			fmt.Fprintf(w, "\tif %s {\n\td.Violate(reqcheck.MsgEnum(%s, %q))\n\t}\n", strings.Join(conds, " && "), text, strings.Join(values, ", "))
		}
		g.bounds(w, s, n, text, func(msg string) string { return "d.Violate(" + msg + ")" })
		fmt.Fprintf(w, "\t_ = %s\n\treqcheck.SetInt(%s, %s)\n\t}\n", text, ptr, n)
	case openapi3.TypeNumber:
		if !numberFormats[s.Format] {
			g.problems.add(&unsupportedError{where: where, keyword: "format", detail: "format " + strconv.Quote(s.Format)})
		}
		text, f := g.fresh("text"), g.fresh("f")
		fmt.Fprintf(w, "\tif %s, %s, ok := d.Number(); ok {\n", text, f)
		g.bounds(w, s, f, text, func(msg string) string { return "d.Violate(" + msg + ")" })
		fmt.Fprintf(w, "\t_ = %s\n\treqcheck.SetFloat(%s, %s)\n\t}\n", text, ptr, f)
	case openapi3.TypeBoolean:
		b := g.fresh("b")
		fmt.Fprintf(w, "\tif %s, ok := d.Boolean(); ok {\n\treqcheck.SetBool(%s, %s)\n\t}\n", b, ptr, b)
	default:
		g.problems.add(&unsupportedError{where: where, keyword: "type", detail: "a schema needs exactly one type"})
	}
}

// assignString stores a checked string in its field, parsing it when the
// model keeps it as a GUID or a time.
func (g *generator) assignString(w *bytes.Buffer, s *openapi3.Schema, def ast.Expr, v, ptr, where string) {
	if sel, ok := def.(*ast.SelectorExpr); ok {
		pkg, _ := sel.X.(*ast.Ident)
		path := ""
		if pkg != nil {
			path = g.models.imports[pkg.Name]
		}
		switch {
		case sel.Sel.Name == "UUID" && strings.HasSuffix(path, "/types") || path == "github.com/google/uuid":
			fmt.Fprintf(w, "\tif id, ok := reqcheck.ParseGUID(%s); ok {\n\t*%s = id\n\t}\n", v, ptr)
			return
		case path == "time" && sel.Sel.Name == "Time":
			fmt.Fprintf(w, "\tif t, ok := reqcheck.ParseDateTime(%s); ok {\n\t*%s = t\n\t}\n", v, ptr)
			return
		}
		g.problems.add(fmt.Errorf("%s: the model keeps this string as %s.%s, which the generator cannot fill", where, pkg, sel.Sel.Name))
		return
	}
	fmt.Fprintf(w, "\treqcheck.SetString(%s, %s)\n", ptr, v)
}

// decoder is the decode function of a model struct type, queued on first use.
func (g *generator) decoder(typeName string, st *ast.StructType, s *openapi3.Schema, where string) string {
	if fn, ok := g.decodeFn[typeName]; ok {
		return fn
	}
	fn := "decode" + typeName
	g.decodeFn[typeName] = fn
	g.queue = append(g.queue, decodeJob{fn: fn, typeName: typeName, schema: s, where: where, st: st})
	return fn
}

func (g *generator) decodeFunction(w *bytes.Buffer, job decodeJob) {
	g.nvar = 0
	fmt.Fprintf(w, "// %s reads a %s, checking it against %s.\n", job.fn, job.typeName, job.where)
	fmt.Fprintf(w, "func %s(d *reqcheck.Decoder, o *generated.%s) {\n\tif !d.Object() {\n\t\treturn\n\t}\n", job.fn, job.typeName)
	g.objectBody(w, job.schema, job.st, "o", job.where)
	w.WriteString("}\n\n")
}

// objectBody writes the loop over an object's properties, o pointing at the
// struct they are decoded into, and the required checks after it.
func (g *generator) objectBody(w *bytes.Buffer, s *openapi3.Schema, st *ast.StructType, o, where string) {
	fieldsByName := fields(st)
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(s.Required) > 64 {
		g.problems.add(&unsupportedError{where: where, keyword: "required", detail: "more than 64 required properties"})
		return
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			g.problems.add(fmt.Errorf("%s: required property %q is not among the properties", where, r))
		}
	}
	seen := ""
	if len(s.Required) > 0 {
		seen = g.fresh("seen")
		fmt.Fprintf(w, "\tvar %s uint64\n", seen)
	}
	w.WriteString("\tfor d.Next() {\n\tswitch string(d.Name()) {\n")
	for _, name := range names {
		f, ok := fieldsByName[name]
		if !ok {
			g.problems.add(fmt.Errorf("%s: the model has no field for property %q", where, name))
			continue
		}
		fmt.Fprintf(w, "\tcase %q:\n", name)
		if i := slices.Index(s.Required, name); i >= 0 {
			fmt.Fprintf(w, "\t%s |= 1 << %d\n", seen, i)
		}
		g.value(w, s.Properties[name], f.typ, "&"+o+"."+f.name, where+".properties."+name)
	}
	w.WriteString("\tdefault:\n")
	ap := s.AdditionalProperties
	switch {
	case ap.Schema != nil:
		g.problems.add(&unsupportedError{where: where, keyword: "additionalProperties", detail: "additionalProperties with a schema"})
	case ap.Has != nil && !*ap.Has:
		w.WriteString("\t\td.Unknown()\n")
	default:
		w.WriteString("\t\td.Skip()\n")
	}
	w.WriteString("\t}\n\t}\n")
	for i, r := range s.Required {
		fmt.Fprintf(w, "\tif %s&(1<<%d) == 0 {\n\t\td.Missing(%q)\n\t}\n", seen, i, r)
	}
}

// constants writes each integer parameter's default and bounds, so that the
// server and the client read them from the spec rather than a copy.
func (g *generator) constants(w *bytes.Buffer, ops []operation) {
	for _, o := range ops {
		for _, ref := range parameters(o) {
			p := ref.Value
			if p.Schema == nil || p.Schema.Value == nil || typeOf(p.Schema.Value) != openapi3.TypeInteger {
				continue
			}
			s := p.Schema.Value
			prefix := goName(o.op.OperationID) + goName(p.Name)
			if d, ok := s.Default.(float64); ok {
				fmt.Fprintf(w, "// %sDefault is the default of %s's %s parameter %s.\nconst %sDefault = %s\n\n", prefix, o.op.OperationID, p.In, p.Name, prefix, num(d))
			}
			if s.Min != nil {
				fmt.Fprintf(w, "// %sMinimum is the least value of %s's %s parameter %s.\nconst %sMinimum = %s\n\n", prefix, o.op.OperationID, p.In, p.Name, prefix, num(*s.Min))
			}
			if s.Max != nil {
				fmt.Fprintf(w, "// %sMaximum is the greatest value of %s's %s parameter %s.\nconst %sMaximum = %s\n\n", prefix, o.op.OperationID, p.In, p.Name, prefix, num(*s.Max))
			}
		}
	}
}

// enums writes, for each component schema that is a string enum with a model
// type, the list of its values in the spec's order.
func (g *generator) enums(w *bytes.Buffer) {
	names := make([]string, 0, len(g.doc.Components.Schemas))
	for name := range g.doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := g.doc.Components.Schemas[name].Value
		typeName := goName(name)
		if s == nil || len(s.Enum) == 0 || typeOf(s) != openapi3.TypeString {
			continue
		}
		if _, ok := g.models.types[typeName]; !ok {
			continue
		}
		g.imports["generated"] = g.modelsImport
		var values []string
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				values = append(values, strconv.Quote(str))
			}
		}
		fmt.Fprintf(w, "// %sValues are the values of %s, in the spec's order.\nfunc %sValues() []generated.%s {\n\treturn []generated.%s{%s}\n}\n\n",
			typeName, name, typeName, typeName, typeName, strings.Join(values, ", "))
	}
}
