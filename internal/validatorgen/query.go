package main

import (
	"fmt"
	"go/ast"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// querySchemas writes, for the resource of every operation that takes
// $select (the items of a collection, or the entity read), the odata.Schema
// that tells $select, $filter and $orderby what they may name: each property
// of the resource's schema, its kind (string, enum, boolean or other), the
// enum's values, and how to read it from the model. A property added to the
// spec is in it after `make generate`.
func (e *emitter) querySchemas(w *writer, plans []opPlan) {
	done := map[string]bool{}
	for _, o := range plans {
		if o.method != "GET" || !hasParameter(o, "$select") {
			continue
		}
		name, item := selectedResource(o.op)
		if item == nil {
			e.b.fail(fmt.Errorf("%s: takes $select but its 200 answer is neither a schema of components nor a collection of one (an object whose value is an array of it), each maybe the first of an anyOf", o.where()))
			continue
		}
		if done[name] {
			continue
		}
		done[name] = true
		e.querySchema(w, name, item)
	}
}

// hasParameter tells whether operation o takes the parameter name.
func hasParameter(o opPlan, name string) bool {
	for _, pp := range o.params {
		if pp.p.Name == name {
			return true
		}
	}
	return false
}

// selectedResource is the schema (name and value) $select applies to in
// op's 200 JSON answer: the items of a collection (value's), or the entity
// answered; either may be the first of an anyOf (the full resource beside
// its $select form).
func selectedResource(op *openapi3.Operation) (string, *openapi3.Schema) {
	r := op.Responses.Status(200)
	if r == nil || r.Value == nil || r.Value.Content["application/json"] == nil {
		return "", nil
	}
	s := firstOfAnyOf(r.Value.Content["application/json"].Schema)
	if s != nil && s.Value != nil && s.Value.Properties["value"] != nil {
		s = firstOfAnyOf(s.Value.Properties["value"].Value.Items)
	}
	if s == nil || !strings.HasPrefix(s.Ref, "#/components/schemas/") {
		return "", nil
	}
	return strings.TrimPrefix(s.Ref, "#/components/schemas/"), s.Value
}

// firstOfAnyOf is s, or the first of its anyOf when it is an inline anyOf.
func firstOfAnyOf(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s != nil && s.Ref == "" && s.Value != nil && len(s.Value.AnyOf) > 0 {
		return s.Value.AnyOf[0]
	}
	return s
}

// querySchema writes the odata.Schema of the component schema name.
func (e *emitter) querySchema(w *writer, name string, s *openapi3.Schema) {
	typeName := goName(name)
	where := "#/components/schemas/" + name
	def, _ := e.models.resolve(&ast.Ident{Name: typeName})
	st, ok := def.(*ast.StructType)
	if !ok {
		e.b.fail(fmt.Errorf("%s: the models have no struct %s", where, typeName))
		return
	}
	odataType := name
	if t := s.Properties["@odata.type"]; t != nil && t.Value != nil && len(t.Value.Enum) == 1 {
		if v, ok := t.Value.Enum[0].(string); ok {
			odataType = strings.TrimPrefix(v, "#")
		}
	}
	e.imports["odata"] = "github.com/connector-group/members-api/internal/odata"
	e.imports["generated"] = e.modelsImport
	model := "generated." + typeName
	byJSON := fields(st)
	names := make([]string, 0, len(s.Properties))
	for p := range s.Properties {
		if !strings.HasPrefix(p, "@") { // @odata.type and its kin are not the resource's properties
			names = append(names, p)
		}
	}
	sort.Strings(names) // the order of oapi-codegen's fields, and of $select's answer

	w.line("// %sQuery is what $select, $filter and $orderby may name of %s.", typeName, where)
	w.line("var %sQuery = odata.Schema[%s]{Type: %q, Properties: []odata.Property[%s]{", typeName, model, odataType, model)
	for _, p := range names {
		f, ok := byJSON[p]
		if !ok {
			e.b.fail(fmt.Errorf("%s.properties.%s: the model %s has no field for it", where, p, typeName))
			continue
		}
		ps := s.Properties[p].Value
		_, ptr := f.typ.(*ast.StarExpr)
		base := f.typ
		if ptr {
			base = f.typ.(*ast.StarExpr).X
		}
		resolved, _ := e.models.resolve(base)
		kind, text := "odata.Other", ""
		switch {
		case typeOf(ps) == openapi3.TypeBoolean:
			kind, text = "odata.Bool", "strconv.FormatBool(%s)"
			e.imports["strconv"] = "strconv"
		case typeOf(ps) == openapi3.TypeString && e.isUUID(resolved):
			kind, text = "odata.String", "%s.String()"
		case typeOf(ps) == openapi3.TypeString && len(ps.Enum) > 0:
			kind, text = "odata.Enum", "string(%s)"
		case typeOf(ps) == openapi3.TypeString && ps.Format != "date-time" && ps.Format != "date":
			kind, text = "odata.String", "string(%s)"
		}
		if id, ok := base.(*ast.Ident); ok && id.Name == "string" && text == "string(%s)" {
			text = "%s"
		}
		fmt.Fprintf(w, "{Name: %q, Kind: %s", p, kind)
		if kind == "odata.Enum" {
			values := make([]string, len(ps.Enum))
			for i, v := range ps.Enum {
				values[i] = fmt.Sprintf("%q", fmt.Sprint(v))
			}
			fmt.Fprintf(w, ", Enum: []string{%s}", strings.Join(values, ", "))
		}
		value := "v." + f.name
		if ptr {
			value = "*v." + f.name
		}
		if text != "" {
			fmt.Fprintf(w, ",\nText: func(v *%s) (string, bool) {", model)
			if ptr {
				fmt.Fprintf(w, "\nif v.%s == nil {\nreturn \"\", false\n}\n", f.name)
			}
			textOf := value
			if kind == "odata.String" && e.isUUID(resolved) {
				textOf = "v." + f.name // String has a value receiver: no dereference
			}
			fmt.Fprintf(w, "return "+text+", true\n}", textOf)
		}
		fmt.Fprintf(w, ",\nValue: func(v *%s) any {", model)
		if ptr {
			fmt.Fprintf(w, "\nif v.%s == nil {\nreturn nil\n}\n", f.name)
		}
		w.line("return %s\n}},", value)
	}
	w.line("}}\n")
}
