package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// models is what oapi-codegen declared in the models file: the validator
// decodes into these types, by these field names.
type models struct {
	pkg     string              // the package's name
	types   map[string]ast.Expr // type name -> its definition (an alias's target too)
	imports map[string]string   // package name used in the file -> import path
}

// field is one struct field: its Go name and type, for a JSON property name.
type field struct {
	name string
	typ  ast.Expr
}

// parseModels reads the models file at path, or src when it is not nil.
func parseModels(path string, src []byte) (*models, error) {
	fset := token.NewFileSet()
	var from any
	if src != nil {
		from = src
	}
	file, err := parser.ParseFile(fset, path, from, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("reading the models %s: %w", path, err)
	}
	m := &models{pkg: file.Name.Name, types: map[string]ast.Expr{}, imports: map[string]string{}}
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		m.imports[name] = p
	}
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			m.types[ts.Name.Name] = ts.Type
		}
	}
	return m, nil
}

// resolve follows named types and aliases declared in the models file to the
// definition, returning it and the last name on the way ("" for none).
func (m *models) resolve(t ast.Expr) (ast.Expr, string) {
	name := ""
	for i := 0; i < 16; i++ {
		id, ok := t.(*ast.Ident)
		if !ok {
			return t, name
		}
		def, ok := m.types[id.Name]
		if !ok {
			return t, name
		}
		name, t = id.Name, def
	}
	return t, name
}

// fields lists a struct's fields by JSON property name.
func fields(st *ast.StructType) map[string]field {
	out := map[string]field{}
	for _, f := range st.Fields.List {
		if f.Tag == nil || len(f.Names) != 1 {
			continue
		}
		tag, _ := strconv.Unquote(f.Tag.Value)
		name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = field{name: f.Names[0].Name, typ: f.Type}
	}
	return out
}

// goName is how the generated constants name a parameter: "$top" -> "Top",
// "client-request-id" -> "ClientRequestID".
func goName(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		switch up := strings.ToUpper(part); up {
		case "ID", "IP", "URL", "URI", "HTTP", "JSON":
			b.WriteString(up)
		default:
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
