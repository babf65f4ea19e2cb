package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// serverAPI is what oapi-codegen declared in the Echo server file: the
// ServerInterface's methods, by operationId. The generated Handlers call
// them with what the checks parsed, in place of oapi-codegen's wrapper,
// which would parse every parameter a second time.
type serverAPI struct {
	pkg     string             // the package's name
	path    string             // its import path
	methods map[string]*method // by operationId
	imports map[string]string  // package name used in the file -> import path
}

// method is one method of ServerInterface: after the echo.Context, the path
// parameters in the order of the path, then the operation's Params struct
// when it has query or header parameters.
type method struct {
	name   string
	path   []ast.Expr // the path parameters' types
	params ast.Expr   // the Params struct's type, nil when there is none
}

// parseServer reads the server file at path, or src when it is not nil.
func parseServer(path, importPath string, src []byte) (*serverAPI, error) {
	fset := token.NewFileSet()
	var from any
	if src != nil {
		from = src
	}
	file, err := parser.ParseFile(fset, path, from, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("reading the server %s: %w", path, err)
	}
	api := &serverAPI{pkg: file.Name.Name, path: importPath, methods: map[string]*method{}, imports: map[string]string{}}
	for _, imp := range file.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		api.imports[name] = p
	}
	byName := map[string]*ast.FuncType{}
	var register *ast.FuncDecl
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok || ts.Name.Name != "ServerInterface" {
					continue
				}
				it, ok := ts.Type.(*ast.InterfaceType)
				if !ok {
					return nil, fmt.Errorf("%s: ServerInterface is not an interface", path)
				}
				for _, m := range it.Methods.List {
					if ft, ok := m.Type.(*ast.FuncType); ok && len(m.Names) == 1 {
						byName[m.Names[0].Name] = ft
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "RegisterHandlersWithOptions" {
				register = d
			}
		}
	}
	if len(byName) == 0 || register == nil {
		return nil, fmt.Errorf("%s has no ServerInterface or no RegisterHandlersWithOptions: is it oapi-codegen's echo-server output?", path)
	}
	// Each route names its wrapper method and its operationId:
	// router.GET(options.BaseURL+"/path", wrapper.Name, options.OperationMiddlewares["id"]...)
	for _, stmt := range register.Body.List {
		es, ok := stmt.(*ast.ExprStmt)
		if !ok {
			continue
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok || len(call.Args) != 3 {
			continue
		}
		wrapper, ok := call.Args[1].(*ast.SelectorExpr)
		index, ok2 := call.Args[2].(*ast.IndexExpr)
		if !ok || !ok2 {
			continue
		}
		lit, ok := index.Index.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		id, _ := strconv.Unquote(lit.Value)
		ft := byName[wrapper.Sel.Name]
		if ft == nil {
			return nil, fmt.Errorf("%s: route of %s calls %s, which ServerInterface lacks", path, id, wrapper.Sel.Name)
		}
		m := &method{name: wrapper.Sel.Name}
		var args []ast.Expr
		for _, f := range ft.Params.List {
			for range max(len(f.Names), 1) {
				args = append(args, f.Type)
			}
		}
		if len(args) > 1 {
			args = args[1:] // the echo.Context
			if id, ok := args[len(args)-1].(*ast.Ident); ok && id.Name == wrapper.Sel.Name+"Params" {
				m.params, args = id, args[:len(args)-1]
			}
			m.path = args
		}
		api.methods[id] = m
	}
	return api, nil
}
