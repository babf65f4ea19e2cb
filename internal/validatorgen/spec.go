package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadSpec loads and validates the document with kin-openapi, refusing
// references to other documents (the spec is one self-contained file).
func loadSpec(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
	}
	return doc, nil
}

// operation is one operation of the document.
type operation struct {
	path, method string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

// where names the operation in the spec, for messages.
func (o operation) where() string { return "paths." + o.path + "." + strings.ToLower(o.method) }

// operations lists the document's operations by path, then method: a
// stable order, so regenerating an unchanged spec changes nothing.
func operations(doc *openapi3.T) []operation {
	var ops []operation
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
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

// parameters are the operation's parameters with the path item's, the
// operation's winning (OpenAPI 3.0, 4.7.8), in the order the spec lists them.
func (o operation) parameters() []*openapi3.ParameterRef {
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

// secured tells whether the operation requires authentication: its own
// security, else the document's, unless a requirement is empty.
func secured(doc *openapi3.T, op *openapi3.Operation) bool {
	security := doc.Security
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

// keysOf lists the field names of a spec object as the document writes
// them, sorted: what a schema or parameter says, so that a keyword the
// generator has no rule for is seen, not silently dropped.
func keysOf(v json.Marshaler) ([]string, error) {
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// schemaWhere names a schema: its component when it is a reference,
// otherwise where it stands.
func schemaWhere(ref *openapi3.SchemaRef, where string) string {
	if ref.Ref != "" {
		return ref.Ref
	}
	return where
}

// typeOf is the schema's one type, or "" when it has none or several.
func typeOf(s *openapi3.Schema) string {
	if s.Type == nil || len(s.Type.Slice()) != 1 {
		return ""
	}
	return s.Type.Slice()[0]
}
